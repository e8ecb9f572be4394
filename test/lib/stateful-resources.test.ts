import * as fs from 'node:fs';
import * as path from 'node:path';
import { lockFolder, lockProblem, PINNED_STACKS, readLock, statefulResources } from '../../scripts/pin';
import { CONFIG_DIR, ENVIRONMENTS, STACK_IDS } from '../helpers/app';
import { committedTemplate } from '../helpers/committed-assembly';

// The locks (locks/<env>.json, written by npm run pin) are reviewed like a schema migration: a
// logical ID that disappears from a template is a resource CloudFormation deletes or replaces
// with a new, empty one. docs/runbooks/stateful-resources.md explains the workflow.
const LOCKS = lockFolder(CONFIG_DIR);

describe.each(ENVIRONMENTS)('%s stateful resources', (name) => {
  test('keep the logical IDs pinned in its lock, and every one of them is pinned', () => {
    const synthesized = STACK_IDS.flatMap((id) => statefulResources(id, committedTemplate(name, id).toJSON()));
    expect(lockProblem(name, readLock(LOCKS, name), synthesized, CONFIG_DIR)).toBeUndefined();
  });
});

test('every lock belongs to an environment of the config folder', () => {
  const locks = fs.existsSync(LOCKS) ? fs.readdirSync(LOCKS).filter((file) => !file.startsWith('.')) : [];
  expect(locks.filter((file) => !ENVIRONMENTS.includes(path.basename(file, '.json')) || !file.endsWith('.json'))).toEqual([]);
});

test('the locks cover every stack of a stage', () => {
  expect([...PINNED_STACKS]).toEqual([...STACK_IDS]);
});
