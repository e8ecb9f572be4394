import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sns from 'aws-cdk-lib/aws-sns';
import { addPolicyPacks } from '../../lib/compliance';
import { cdkJsonContext } from './app';
import { scratchFolder } from './scratch';
import { FIXTURE_ENV } from './target-group-fixture';

/**
 * cdk-nag's and the Control Tower rules' findings, as `<checker> <rule> <construct path>`, on the
 * constructs `build` adds under the returned scope path, synthesized as `cdk synth` checks them.
 * Acknowledged findings are not findings. Findings elsewhere, such as on a fixture's load balancer (access
 * logs…), are not counted. Sentinels must be reported, a topic neither encrypted nor TLS-only by
 * cdk-nag and an alarm without actions by cfn-guard, or the checkers did not run (a clean synth
 * writes an empty report).
 */
export function policyFindings(build: (app: App) => string): string[] {
  const outdir = fs.mkdtempSync(path.join(scratchFolder(), 'cdk-out-'));
  try {
    const app = new App({ context: cdkJsonContext(), outdir });
    addPolicyPacks(app, { validationCache: false });
    const sentinel = new Stack(app, 'Sentinel', { env: FIXTURE_ENV });
    new sns.Topic(sentinel, 'Careless');
    new cloudwatch.Metric({ namespace: 'Sentinel', metricName: 'Silent' }).createAlarm(sentinel, 'Silent', { threshold: 1, evaluationPeriods: 1 });
    const scope = build(app);
    try {
      app.synth();
    } catch {
      // Any finding fails the synth, the fixture's too; the report says whose they are.
    }
    const report: { pluginName: string; violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[] = JSON.parse(
      fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'),
    ).pluginReports;
    const findings = report.flatMap((plugin) =>
      plugin.violations.flatMap((violation) => violation.violatingConstructs.map(({ constructPath }) => `${plugin.pluginName} ${violation.ruleName} ${constructPath}`)),
    );
    for (const checker of ['AwsSolutions', 'cdk-validator-cfnguard']) {
      if (!findings.some((finding) => finding.startsWith(`${checker} `) && finding.includes(' Sentinel/'))) {
        throw new Error(`${checker} did not report the sentinels: ${findings.join('; ')}`);
      }
    }
    return findings.filter((finding) => finding.endsWith(` ${scope}`) || finding.includes(` ${scope}/`));
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
