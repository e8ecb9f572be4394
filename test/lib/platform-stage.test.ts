import { ENVIRONMENTS, STACK_IDS } from '../helpers/app';
import { committedConfig, committedStageFacts, committedTemplate } from '../helpers/committed-assembly';
import { normalizedTemplate, snapshotTest } from '../helpers/snapshot';

describe.each(ENVIRONMENTS)('%s stage', (name) => {
  const stage = committedStageFacts(name);

  test('deploys to the configured account and region', () => {
    const config = committedConfig(name);
    for (const scope of [stage, ...STACK_IDS.map((id) => stage.stacks[id])]) {
      expect([scope.account, scope.region]).toEqual([config.account, config.region]);
    }
  });

  test('names its stacks after the environment, so `cdk deploy <env>/*` selects one environment', () => {
    expect(stage.children).toEqual([...STACK_IDS]);
    expect(STACK_IDS.map((id) => stage.stacks[id].stackName)).toEqual(STACK_IDS.map((id) => `${name}-${id}`));
  });

  snapshotTest.each(STACK_IDS)('%s template matches the snapshot', (stackId) => {
    expect(normalizedTemplate(committedTemplate(name, stackId))).toMatchSnapshot();
  });

  test('tags every taggable resource with the platform and environment', () => {
    const template = committedTemplate(name, 'Data');
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      Tags: [
        { Key: 'environment', Value: name },
        { Key: 'platform', Value: 'mlops-platform' },
      ],
    });
  });
});
