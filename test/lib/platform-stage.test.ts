import { Template } from 'aws-cdk-lib/assertions';
import { committedEnvironment, committedStage, ENVIRONMENTS, STACK_IDS, stackOf } from '../helpers/app';
import { normalizedTemplate } from '../helpers/snapshot';

describe.each(ENVIRONMENTS)('%s stage', (name) => {
  const stage = committedStage(name);

  test('deploys to the configured account and region', () => {
    const config = committedEnvironment(name);
    for (const scope of [stage, ...STACK_IDS.map((id) => stackOf(stage, id))]) {
      expect([scope.account, scope.region]).toEqual([config.account, config.region]);
    }
  });

  test('names its stacks after the environment, so `cdk deploy <env>/*` selects one environment', () => {
    expect(stage.node.children.map((child) => child.node.id)).toEqual([...STACK_IDS]);
    expect(STACK_IDS.map((id) => stackOf(stage, id).stackName)).toEqual(STACK_IDS.map((id) => `${name}-${id}`));
  });

  test.each(STACK_IDS)('%s template matches the snapshot', (stackId) => {
    expect(normalizedTemplate(Template.fromStack(stackOf(stage, stackId)))).toMatchSnapshot();
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
