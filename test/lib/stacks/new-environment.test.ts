import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addPolicyPacks } from '../../../lib/compliance';
import { validateEnvironments } from '../../../lib/config/load';
import { PlatformStage } from '../../../lib/platform-stage';
import { appliedManifests } from '../../helpers/applied-manifests';
import { cdkJsonContext, STACK_IDS, stackOf, testStage } from '../../helpers/app';
import { scratchFolder } from '../../helpers/scratch';

/** An environment as docs/runbooks/new-environment.md starts one: no GPU pools, no teams, no models. */
const NEW_ENVIRONMENT = `
environmentType: development
account: "123456789012"
region: eu-west-1
availabilityZones: [eu-west-1a, eu-west-1b]
cluster:
  addons:
    metrics-server: v0.8.0-eksbuild.2
mlflow:
  hostname: mlflow.new.example.internal
`;

describe('a new environment with no GPU pools, teams or models', () => {
  const loaded = validateEnvironments([{ file: 'config/new.yaml', text: NEW_ENVIRONMENT }]);
  if (!loaded.ok) {
    throw new Error(loaded.message);
  }
  const stage = testStage(loaded.environments[0]);

  // kubectl exits 1 on "no objects passed to apply", which fails the custom resource and the deploy.
  test.each(STACK_IDS)('%s applies no manifest without objects', (id) => {
    const template = Template.fromStack(stackOf(stage, id)).toJSON();
    // A stack with nothing to deploy has no Resources section at all.
    const resources = Object.entries((template.Resources ?? {}) as Record<string, { Type: string }>)
      .filter(([, resource]) => resource.Type === 'Custom::AWSCDK-EKS-KubernetesResource')
      .map(([logicalId]) => logicalId);
    const applying = new Set(appliedManifests(template).map((manifest) => manifest.logicalId));
    expect(resources.filter((logicalId) => !applying.has(logicalId))).toEqual([]);
  });
});

describe('a new environment, synthesized with every checker as `npm run synth` does', () => {
  test('passes every checker: its empty Serving and Monitoring stacks are acknowledged as empty, and nothing else is', () => {
    const loaded = validateEnvironments([{ file: 'config/new.yaml', text: NEW_ENVIRONMENT }]);
    if (!loaded.ok) {
      throw new Error(loaded.message);
    }
    const outdir = fs.mkdtempSync(path.join(scratchFolder(), 'new-environment-'));
    try {
      const app = new App({ outdir, context: cdkJsonContext() });
      addPolicyPacks(app);
      const stage = new PlatformStage(app, 'new', { config: loaded.environments[0] });
      expect(() => app.synth()).not.toThrow();

      const suppressed = (JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')).pluginReports as PluginReport[])
        .flatMap((report) => report.suppressedViolations ?? [])
        .filter((violation) => violation.ruleName === 'F0001')
        .flatMap((violation) => violation.violatingConstructs.map((construct) => construct.constructPath));
      expect(suppressed.sort()).toEqual([stackOf(stage, 'Monitoring').node.path, stackOf(stage, 'Serving').node.path].sort());
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

interface PluginReport {
  suppressedViolations?: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
}
