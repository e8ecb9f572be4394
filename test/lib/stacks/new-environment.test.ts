import { Template } from 'aws-cdk-lib/assertions';
import { validateEnvironments } from '../../../lib/config/load';
import { appliedManifests } from '../../helpers/applied-manifests';
import { STACK_IDS, stackOf, testStage } from '../../helpers/app';

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
