import { Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildPlatform } from '../../lib/platform-app';
import { fixtureEnvironment, MINIMAL_ENVIRONMENT, testApp } from '../helpers/app';

/** dev and staging share an account, prod has its own; GitHub Actions deploys all three. */
const environments = [
  { name: 'dev', account: '111111111111', vpcCidr: '10.10.0.0/16' },
  { name: 'staging', account: '111111111111', vpcCidr: '10.20.0.0/16' },
  { name: 'prod', account: '333333333333', vpcCidr: '10.30.0.0/16' },
].map(({ name, account, vpcCidr }) =>
  fixtureEnvironment(
    {
      ...MINIMAL_ENVIRONMENT,
      account,
      network: { vpcCidr },
      mlflow: { hostname: `mlflow.${name}.example.internal` },
      ci: { githubRepository: 'example-org/mlops-platform' },
    },
    name,
  ),
);

function built(selected?: string[]) {
  const app = testApp();
  buildPlatform(app, { environments, selected: selected && environments.filter((config) => selected.includes(config.name)) });
  return {
    stages: app.node.children.filter(Stage.isStage).map((stage) => stage.node.id),
    stacks: app.node.children.filter(Stack.isStack),
  };
}

const roleNames = (stack: Stack) =>
  Object.values(Template.fromStack(stack).findResources('AWS::IAM::Role')).map((role) => role.Properties.RoleName as string);

describe('buildPlatform', () => {
  test('builds a stage per environment and a CiIdentity stack per account', () => {
    const { stages, stacks } = built();

    expect(stages).toEqual(['dev', 'staging', 'prod']);
    expect(stacks.map((stack) => stack.node.id)).toEqual(['CiIdentity-111111111111', 'CiIdentity-333333333333']);
  });

  test('builds only the selected environments, and only the CiIdentity stacks of their accounts', () => {
    const { stages, stacks } = built(['prod']);

    expect(stages).toEqual(['prod']);
    expect(stacks.map((stack) => stack.node.id)).toEqual(['CiIdentity-333333333333']);
  });

  test("a selected environment's CiIdentity stack keeps the roles of the unselected environments of its account", () => {
    const [stack] = built(['dev']).stacks;

    expect(roleNames(stack)).toEqual(
      expect.arrayContaining(['mlops-dev-github-deploy', 'mlops-staging-github-deploy']),
    );
  });
});
