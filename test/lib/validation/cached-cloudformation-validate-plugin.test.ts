import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { CachedCloudFormationValidatePlugin } from '../../../lib/validation/cached-cloudformation-validate-plugin';
import { cdkJsonContext } from '../../helpers/app';
import { scratchFolder } from '../../helpers/scratch';

const folder = fs.mkdtempSync(path.join(scratchFolder(), 'cached-cfn-validate-'));
afterAll(() => {
  fs.rmSync(folder, { recursive: true, force: true });
});

// One validator for the file: its engine takes a second or two to load. Each test has its own stack.
const validator = new CachedCloudFormationValidatePlugin({ cacheDirectory: path.join(folder, 'cache') });

interface PluginReport {
  pluginName: string;
  conclusion: string;
  violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[];
}

/**
 * Synthesizes `stackName` with cdk.json's context (findings are errors) and the cached validator; its bucket has
 * a property S3 does not know (an error) when `unknownProperty` is set.
 */
function synthesize(stackName: string, unknownProperty: boolean) {
  const outdir = fs.mkdtempSync(path.join(folder, 'out-'));
  const app = new App({ outdir, context: cdkJsonContext() });
  Validations.of(app).addPlugins(validator);
  new CfnResource(new Stack(app, stackName), 'Bucket', { type: 'AWS::S3::Bucket', properties: unknownProperty ? { Colour: 'blue' } : {} });
  let failed = false;
  try {
    app.synth();
  } catch {
    failed = true;
  }
  const reportFile = path.join(outdir, 'validation-report.json');
  const reports: PluginReport[] = fs.existsSync(reportFile) ? JSON.parse(fs.readFileSync(reportFile, 'utf8')).pluginReports : [];
  return { failed, reports, use: validator.cacheUse };
}

describe('CachedCloudFormationValidatePlugin', () => {
  test('an error found once fails the synth again from the cache, with its severity', () => {
    const first = synthesize('Failing', true);
    const second = synthesize('Failing', true);

    expect(first.use).toEqual({ hits: 0, misses: 1 });
    expect(second.use).toEqual({ hits: 1, misses: 0 });
    for (const run of [first, second]) {
      // It replaces aws-cdk-lib's own validator instead of running beside it.
      expect(run.reports.filter((report) => report.pluginName === 'CloudFormation Validate')).toHaveLength(1);
      expect(run.failed).toBe(true);
      expect(run.reports[0]).toMatchObject({
        conclusion: 'failure',
        violations: [{ severity: 'error', violatingConstructs: [{ constructPath: 'Failing/Bucket' }] }],
      });
    }
    expect(second.reports[0].violations.map((violation) => violation.ruleName)).toEqual(first.reports[0].violations.map((violation) => violation.ruleName));
  });

  test('a template fixed after a failing synth is validated again and passes', () => {
    expect(synthesize('Fixed', true).failed).toBe(true);

    const fixed = synthesize('Fixed', false);

    expect(fixed.use).toEqual({ hits: 0, misses: 1 });
    expect(fixed.failed).toBe(false);
  });
});
