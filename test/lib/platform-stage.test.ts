import { ENVIRONMENTS, STACK_IDS } from '../helpers/app';
import { committedConfig, committedStageFacts, committedTemplate, StageStackId } from '../helpers/committed-assembly';
import { normalizedTemplate, snapshotTest } from '../helpers/snapshot';

/** The stacks of a stage in deployment order: the fixed ones, with one per model, in config order, between Serving and Monitoring. */
function expectedStackIds(name: string): StageStackId[] {
  const models = committedConfig(name).teams.flatMap((team) => team.models.map((model) => `Model-${model.name}` as const));
  const monitoring = STACK_IDS.indexOf('Monitoring');
  return [...STACK_IDS.slice(0, monitoring), ...models, ...STACK_IDS.slice(monitoring)];
}

describe.each(ENVIRONMENTS)('%s stage', (name) => {
  const stage = committedStageFacts(name);
  const stackIds = expectedStackIds(name);

  test('deploys to the configured account and region', () => {
    const config = committedConfig(name);
    for (const scope of [stage, ...stackIds.map((id) => stage.stacks[id])]) {
      expect([scope.account, scope.region]).toEqual([config.account, config.region]);
    }
  });

  test('has the fixed stacks, and one stack per model between Serving and Monitoring', () => {
    expect(stage.children).toEqual(stackIds);
  });

  test('names its stacks after the environment, so `cdk deploy <env>/*` selects one environment', () => {
    expect(stackIds.map((id) => stage.stacks[id].stackName)).toEqual(stackIds.map((id) => `${name}-${id}`));
  });

  snapshotTest.each(stackIds)('%s template matches the snapshot', (stackId) => {
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
