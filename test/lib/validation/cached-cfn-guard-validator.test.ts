import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, CfnWaitConditionHandle, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CachedCfnGuardValidator } from '../../../lib/validation/cached-cfn-guard-validator';
import { scratchFolder } from '../../helpers/scratch';

let folder: string;
beforeEach(() => {
  folder = fs.mkdtempSync(path.join(scratchFolder(), 'cached-cfn-guard-'));
});
afterEach(() => {
  fs.rmSync(folder, { recursive: true, force: true });
});

interface GuardReport {
  conclusion: string;
  violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
}

/** Synthesizes one stack, `Demo`, with cfn-guard as the only checker; returns cfn-guard's report and its cache use. */
function synthesize(withBucket: boolean, props: { parallelism?: number; cache?: false } = {}) {
  const outdir = fs.mkdtempSync(path.join(folder, 'out-'));
  const app = new App({ outdir, builtinCloudFormationValidation: false });
  const guard = new CachedCfnGuardValidator({ cacheDirectory: props.cache ?? path.join(folder, 'cache'), parallelism: props.parallelism });
  Validations.of(app).addPlugins(guard);
  const stack = new Stack(app, 'Demo');
  new CfnWaitConditionHandle(stack, 'Handle');
  if (withBucket) {
    // A bare bucket breaks several Control Tower rules: no logging, no versioning, no public access block.
    new s3.CfnBucket(stack, 'Bucket');
  }
  try {
    app.synth();
  } catch {
    // A failed validation throws in tests; the report below says why.
  }
  const reportFile = path.join(outdir, 'validation-report.json');
  const reports: (GuardReport & { pluginName: string })[] = fs.existsSync(reportFile) ? JSON.parse(fs.readFileSync(reportFile, 'utf8')).pluginReports : [];
  return { report: reports.find((report) => report.pluginName === guard.name), use: guard.cacheUse, stack };
}

const rulesOf = (report: GuardReport | undefined) => (report?.violations ?? []).map((violation) => violation.ruleName).sort();

describe('CachedCfnGuardValidator', () => {
  test('a template changed after a passing synth fails, and keeps failing when its findings come from the cache', () => {
    const passing = synthesize(false);
    expect(passing.report).toBeUndefined();

    const changed = synthesize(true);
    expect(changed.use).toEqual({ hits: 0, misses: 1 });
    expect(changed.report?.conclusion).toBe('failure');
    expect(rulesOf(changed.report)).toContain('s3_bucket_logging_enabled_check');

    const again = synthesize(true);
    expect(again.use).toEqual({ hits: 1, misses: 0 });
    expect(again.report?.conclusion).toBe('failure');
    expect(rulesOf(again.report)).toEqual(rulesOf(changed.report));
    expect(again.report?.violations[0].violatingConstructs[0].constructPath).toBe('Demo/Bucket');
  });

  test('several cfn-guard processes report what one reports', () => {
    const outdir = fs.mkdtempSync(path.join(folder, 'out-'));
    const app = new App({ outdir, builtinCloudFormationValidation: false });
    for (const name of ['One', 'Two', 'Three']) {
      new s3.CfnBucket(new Stack(app, name), 'Bucket');
    }
    const templatePaths = app.synth().stacks.map((stack) => stack.templateFullPath);
    const context = {
      templatePaths,
      stackTemplates: templatePaths.map((templatePath) => ({ stackConstructPath: templatePath, templatePath, accountId: undefined, region: undefined })),
      appConstruct: app,
    };
    const findings = (parallelism: number) =>
      new CachedCfnGuardValidator({ cacheDirectory: false, parallelism })
        .validate(context)
        .violations.flatMap((violation) =>
          violation.violatingResources.map((resource) => `${violation.ruleName} ${path.basename(resource.templatePath!)} ${resource.resourceLogicalId}`),
        )
        .sort();

    const alone = findings(1);
    expect(alone.length).toBeGreaterThan(3);
    expect(findings(3)).toEqual(alone);
  });
});
