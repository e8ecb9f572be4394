import { Template } from 'aws-cdk-lib/assertions';
import { committedEnvironment, committedStage, ENVIRONMENTS } from '../helpers/app';
import { normalizedTemplate } from '../helpers/snapshot';

describe.each(ENVIRONMENTS)('%s stage', (name) => {
  const stage = committedStage(name);

  test('deploys to the configured account and region', () => {
    const config = committedEnvironment(name);
    for (const scope of [stage, stage.network, stage.data]) {
      expect([scope.account, scope.region]).toEqual([config.account, config.region]);
    }
  });

  test('names its stacks after the environment, so `cdk deploy <env>/*` selects one environment', () => {
    expect(stage.node.children.map((child) => child.node.id)).toEqual(['Network', 'Data']);
    expect([stage.network.stackName, stage.data.stackName]).toEqual([`${name}-Network`, `${name}-Data`]);
  });

  test.each(['Network', 'Data'] as const)('%s template matches the snapshot', (stackId) => {
    const stack = stackId === 'Network' ? stage.network : stage.data;
    expect(normalizedTemplate(Template.fromStack(stack))).toMatchSnapshot();
  });

  test('tags every taggable resource with the platform and environment', () => {
    const template = Template.fromStack(stage.data);
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      Tags: [
        { Key: 'environment', Value: name },
        { Key: 'platform', Value: 'mlops-platform' },
      ],
    });
  });
});
