import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { formatLock, lockFolder, lockProblem, PINNED_STACKS, readLock, stageStatefulResources, statefulResources } from '../../scripts/pin';
import { CONFIG_DIR, ENVIRONMENTS, fixtureEnvironment, MINIMAL_ENVIRONMENT, MINIMAL_MODEL, STACK_IDS, testStage } from '../helpers/app';
import { committedStageFacts, committedTemplate, StageStackId } from '../helpers/committed-assembly';

// The locks (locks/<env>.json, written by npm run pin) are reviewed like a schema migration: a
// logical ID that disappears from a template is a resource CloudFormation deletes or replaces
// with a new, empty one. docs/runbooks/stateful-resources.md explains the workflow.
const LOCKS = lockFolder(CONFIG_DIR);

describe.each(ENVIRONMENTS)('%s stateful resources', (name) => {
  test('keep the logical IDs pinned in its lock, and every one of them is pinned', () => {
    const stackIds = Object.keys(committedStageFacts(name).stacks) as StageStackId[];
    const synthesized = stackIds.flatMap((id) => statefulResources(id, committedTemplate(name, id).toJSON()));
    expect(lockProblem(name, readLock(LOCKS, name), synthesized, CONFIG_DIR)).toBeUndefined();
  });
});

test('every lock belongs to an environment of the config folder', () => {
  const locks = fs.existsSync(LOCKS) ? fs.readdirSync(LOCKS).filter((file) => !file.startsWith('.')) : [];
  expect(locks.filter((file) => !ENVIRONMENTS.includes(path.basename(file, '.json')) || !file.endsWith('.json'))).toEqual([]);
});

describe('the locks', () => {
  test('cover every stack of a stage, its model and monitoring stacks included', () => {
    const config = fixtureEnvironment({
      ...MINIMAL_ENVIRONMENT,
      ingress: { servingDomain: 'models.sandbox.example.internal' },
      teams: [{ name: 'growth', quota: { cpu: 8, memoryGiB: 16, pods: 20 }, models: [MINIMAL_MODEL] }],
    });
    const stage = testStage(config);
    const stacks = stage.node.children.filter(Stack.isStack);
    // A log group in every stack, as a later change could add a stateful resource to any of them.
    for (const stack of stacks) {
      new logs.CfnLogGroup(stack, 'Added');
    }
    const pinnedIn = stageStatefulResources(stage)
      .filter((resource) => resource.logicalId === 'Added')
      .map((resource) => resource.stack);
    expect(pinnedIn).toEqual(stacks.map((stack) => stack.node.id));
    expect(pinnedIn).toEqual(expect.arrayContaining(['Model-churn', 'Monitoring']));
  });

  test('list the fixed stacks of a stage in deployment order', () => {
    expect([...PINNED_STACKS]).toEqual([...STACK_IDS]);
  });

  test('list model stacks between Serving and Monitoring, by name', () => {
    const lock = formatLock({
      environment: 'dev',
      resources: ['Monitoring', 'Model-b', 'Serving', 'Model-a', 'Network'].map((stack) => ({ stack, logicalId: 'Logs', type: 'AWS::Logs::LogGroup' })),
      dropped: [],
    });
    expect([...lock.matchAll(/"stack":"([^"]+)"/g)].map((match) => match[1])).toEqual(['Network', 'Serving', 'Model-a', 'Model-b', 'Monitoring']);
  });
});
