// Keeps locks/<env>.json, the logical IDs of every stateful resource of each environment, in step
// with what the app synthesizes: pins new stateful resources, and refuses to drop a pinned one
// unless told which and why, because a logical ID that disappears is a resource CloudFormation
// deletes or replaces with a new, empty one. test/lib/stateful-resources.test.ts fails until the
// locks agree with the synthesized templates. See docs/runbooks/stateful-resources.md.
// Usage: npm run pin [-- --config <folder>] [-- --drop <logical ID> ... --reason "<why>"]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack, Stage } from 'aws-cdk-lib';
import { loadEnvironments } from '../lib/config/load';
import type { EnvironmentConfig } from '../lib/config/schema';
import { PlatformStage } from '../lib/platform-stage';

const REPO_ROOT = path.join(__dirname, '..');

/** The config folder the app reads unless told otherwise. */
export const DEFAULT_CONFIG_DIR = path.join(REPO_ROOT, 'config');

/** Resource types that hold data or guard it; a new logical ID means a new, empty resource. */
export const STATEFUL_TYPES = [
  'AWS::RDS::DBInstance',
  'AWS::S3::Bucket',
  'AWS::ECR::Repository',
  'AWS::KMS::Key',
  'AWS::SecretsManager::Secret',
  'AWS::Logs::LogGroup',
];

/**
 * The order in which a lock lists the stacks of a stage: its fixed stacks in deployment order, with
 * each model's stack (`Model-<name>`) between Serving and Monitoring, by name. The locks cover every
 * stack of a stage (stageStatefulResources), not only these.
 */
export const PINNED_STACKS = ['Network', 'Data', 'Cluster', 'Ingress', 'Mlflow', 'Serving', 'Monitoring'] as const;

/** One stateful resource, as a lock records it. */
export interface PinnedResource {
  /** The construct id of its stack in the stage, e.g. `Data`. */
  readonly stack: string;
  readonly logicalId: string;
  /** Its CloudFormation type. */
  readonly type: string;
}

/** A resource removed from a lock on purpose, with the reason given. */
export interface DroppedResource extends PinnedResource {
  readonly reason: string;
}

/** The committed record of one environment's stateful resources. */
export interface StatefulLock {
  readonly environment: string;
  readonly resources: PinnedResource[];
  readonly dropped: DroppedResource[];
}

const LOCK_COMMENT =
  'Logical IDs of the stateful resources of this environment. Written by npm run pin; test/lib/stateful-resources.test.ts fails until it matches the synthesized templates. See docs/runbooks/stateful-resources.md.';

/**
 * The folder of the locks that belong to a config folder: `locks/` beside it, so a copy of
 * `config/` with its `locks/` beside it is pinned and tested like the committed one, and the
 * config folder itself holds only environment files (the loader refuses anything else there).
 */
export function lockFolder(configDir: string): string {
  return path.join(path.dirname(path.resolve(configDir)), 'locks');
}

/** The lock file of an environment. */
export function lockFile(lockDir: string, environment: string): string {
  return path.join(lockDir, `${environment}.json`);
}

/** The stateful resources of one synthesized stack template. */
export function statefulResources(stack: string, template: { Resources?: Record<string, { Type: string }> }): PinnedResource[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, resource]) => STATEFUL_TYPES.includes(resource.Type))
    .map(([logicalId, resource]) => ({ stack, logicalId, type: resource.Type }));
}

const keyOf = (resource: PinnedResource) => `${resource.stack}/${resource.logicalId}/${resource.type}`;
const stackRank = (stack: string) =>
  stack.startsWith('Model-') ? PINNED_STACKS.indexOf('Serving') + 0.5 : PINNED_STACKS.indexOf(stack as (typeof PINNED_STACKS)[number]);
// Code-unit order, not localeCompare: the same file on every machine.
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byStackThenId = (a: PinnedResource, b: PinnedResource) =>
  stackRank(a.stack) - stackRank(b.stack) || compare(a.stack, b.stack) || compare(a.logicalId, b.logicalId) || compare(a.type, b.type);
const listed = (resources: PinnedResource[]) => resources.map((resource) => `${resource.stack}/${resource.logicalId} (${resource.type})`).join(', ');

/** What differs between a lock and the synthesized stateful resources. */
export function compareWithLock(pinned: PinnedResource[], synthesized: PinnedResource[]): { added: PinnedResource[]; gone: PinnedResource[] } {
  const pinnedKeys = new Set(pinned.map(keyOf));
  const synthesizedKeys = new Set(synthesized.map(keyOf));
  return {
    added: synthesized.filter((resource) => !pinnedKeys.has(keyOf(resource))).sort(byStackThenId),
    gone: pinned.filter((resource) => !synthesizedKeys.has(keyOf(resource))).sort(byStackThenId),
  };
}

/** A path as messages show it: relative to where the command ran, unless it lies outside. */
function shown(file: string): string {
  const relative = path.relative(process.cwd(), path.resolve(file));
  return relative.startsWith('..') ? path.resolve(file) : relative || '.';
}

/** The command that brings locks up to date, for messages; `--config` only for another folder. */
export function pinCommand(configDir: string, drops: string[] = []): string {
  const args = [
    ...(path.resolve(configDir) === DEFAULT_CONFIG_DIR ? [] : ['--config', shown(configDir)]),
    ...drops.flatMap((id) => ['--drop', id]),
    ...(drops.length > 0 ? ['--reason', '"<why>"'] : []),
  ];
  return args.length > 0 ? `npm run pin -- ${args.join(' ')}` : 'npm run pin';
}

/**
 * Why a lock does not match what was synthesized, in one line with the command to run, or
 * undefined when it matches. `lock` is undefined when the environment has no lock file.
 */
export function lockProblem(environment: string, lock: StatefulLock | undefined, synthesized: PinnedResource[], configDir: string): string | undefined {
  if (!lock) {
    return `${environment}: no stateful resources pinned (no ${shown(lockFile(lockFolder(configDir), environment))}): run ${pinCommand(configDir)}`;
  }
  const { added, gone } = compareWithLock(lock.resources, synthesized);
  if (gone.length > 0) {
    const drops = [...new Set(gone.map((resource) => resource.logicalId))];
    return (
      `${environment}: pinned stateful resources would be deleted or replaced by a new, empty one: ${listed(gone)}` +
      (added.length > 0 ? `; new: ${listed(added)}` : '') +
      '. If a construct was renamed or moved, restore its id and path; if the removal is intended (its data migrated or not needed),' +
      ` run ${pinCommand(configDir, drops)} (docs/runbooks/stateful-resources.md)`
    );
  }
  if (added.length > 0) {
    return `${environment}: stateful resources not pinned yet: ${listed(added)}; run ${pinCommand(configDir)}`;
  }
  return undefined;
}

/** Reads an environment's lock; undefined when there is none. Throws a one-line error on a malformed one. */
export function readLock(lockDir: string, environment: string): StatefulLock | undefined {
  const file = lockFile(lockDir, environment);
  if (!fs.existsSync(file)) {
    return undefined;
  }
  const where = shown(file);
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${where}: not valid JSON (${error instanceof Error ? error.message : String(error)}); restore it from version control`);
  }
  const lock = data as Partial<StatefulLock>;
  const isResource = (entry: unknown) =>
    typeof entry === 'object' && entry !== null && ['stack', 'logicalId', 'type'].every((field) => typeof (entry as Record<string, unknown>)[field] === 'string');
  if (
    lock.environment !== environment ||
    !Array.isArray(lock.resources) ||
    !lock.resources.every(isResource) ||
    !Array.isArray(lock.dropped) ||
    !lock.dropped.every((entry) => isResource(entry) && typeof (entry as DroppedResource).reason === 'string')
  ) {
    throw new Error(`${where}: not a lock of environment "${environment}" (environment, resources[], dropped[] of stack, logicalId, type); restore it from version control`);
  }
  return { environment, resources: lock.resources, dropped: lock.dropped };
}

/** The text of a lock file: sorted, one resource a line, so that a change reads as a small diff. */
export function formatLock(lock: StatefulLock): string {
  const line = (entry: PinnedResource | DroppedResource) => {
    const { stack, logicalId, type } = entry;
    return `    ${JSON.stringify('reason' in entry ? { stack, logicalId, type, reason: entry.reason } : { stack, logicalId, type })}`;
  };
  const list = (entries: (PinnedResource | DroppedResource)[]) =>
    entries.length > 0 ? `[\n${[...entries].sort(byStackThenId).map(line).join(',\n')}\n  ]` : '[]';
  return [
    '{',
    `  "$comment": ${JSON.stringify(LOCK_COMMENT)},`,
    `  "environment": ${JSON.stringify(lock.environment)},`,
    `  "resources": ${list(lock.resources)},`,
    `  "dropped": ${list(lock.dropped)}`,
    '}',
    '',
  ].join('\n');
}

/** What `npm run pin` was asked to do. */
export interface PinRequest {
  /** Logical IDs to drop from every lock where they are no longer synthesized. */
  readonly drops: string[];
  /** Why they are dropped; required with `drops`. */
  readonly reason?: string;
}

/** The outcome for one environment: the lock to write, or nothing to change. */
interface Outcome {
  readonly environment: string;
  readonly lock: StatefulLock;
  readonly changed: boolean;
  readonly summary: string;
}

/**
 * The new locks for the synthesized environments, or every reason to refuse. Pure: reading the
 * locks and writing them are the caller's.
 */
export function updateLocks(
  synthesized: Record<string, PinnedResource[]>,
  locks: Record<string, StatefulLock | undefined>,
  request: PinRequest,
  configDir: string,
): { ok: true; outcomes: Outcome[] } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const used = new Set<string>();
  const outcomes: Outcome[] = [];
  for (const [environment, resources] of Object.entries(synthesized)) {
    const lock = locks[environment] ?? { environment, resources: [], dropped: [] };
    const { added, gone } = compareWithLock(lock.resources, resources);
    const dropping = gone.filter((resource) => request.drops.includes(resource.logicalId));
    dropping.forEach((resource) => used.add(resource.logicalId));
    const refused = gone.filter((resource) => !request.drops.includes(resource.logicalId));
    if (refused.length > 0) {
      const drops = [...new Set(refused.map((resource) => resource.logicalId))];
      problems.push(
        `${environment}: refusing to drop pinned stateful resources that are no longer synthesized: ${listed(refused)}. ` +
          `If a construct was renamed or moved, restore its id and path; to remove them on purpose, run ${pinCommand(configDir, [...request.drops, ...drops])}`,
      );
      continue;
    }
    const readded = new Set(added.map(keyOf));
    const goneKeys = new Set(dropping.map(keyOf));
    const next: StatefulLock = {
      environment,
      resources: [...lock.resources.filter((resource) => !goneKeys.has(keyOf(resource))), ...added],
      // A resource that comes back is pinned again, not dropped.
      dropped: [...lock.dropped.filter((entry) => !readded.has(keyOf(entry))), ...dropping.map((resource) => ({ ...resource, reason: request.reason ?? '' }))],
    };
    const parts = [
      ...(added.length > 0 ? [`pinned ${listed(added)}`] : []),
      ...(dropping.length > 0 ? [`dropped ${listed(dropping)} (${request.reason})`] : []),
    ];
    outcomes.push({
      environment,
      lock: next,
      changed: !locks[environment] || parts.length > 0,
      summary: !locks[environment]
        ? `new lock, ${next.resources.length} stateful resources pinned`
        : parts.length > 0
          ? parts.join('; ')
          : `${next.resources.length} stateful resources, unchanged`,
    });
  }
  const unused = request.drops.filter((id) => !used.has(id));
  if (unused.length > 0) {
    problems.push(`--drop ${unused.join(', ')}: no environment pins ${unused.length > 1 ? 'these' : 'it'} without synthesizing ${unused.length > 1 ? 'them' : 'it'}; drop only what npm run pin refuses to drop`);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, outcomes };
}

/** The context of cdk.json, so logical IDs come out as `cdk synth` makes them (feature flags included). */
function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')).context;
}

/**
 * The stateful resources of every stack of a stage, each under its stack's construct id: every
 * stack, model and monitoring stacks included, so a stateful resource added to any of them is
 * pinned, and removing a model cannot delete one unnoticed.
 */
export function stageStatefulResources(stage: Stage): PinnedResource[] {
  const assembly = stage.synth();
  return stage.node.children
    .filter(Stack.isStack)
    .flatMap((stack) => statefulResources(stack.node.id, assembly.getStackArtifact(stack.artifactId).template));
}

/**
 * The stateful resources of each environment, synthesized in this process as the app builds its
 * stages, without the policy packs, built-in validation or asset staging: none changes a logical ID.
 */
export function synthesizeStatefulResources(environments: EnvironmentConfig[]): Record<string, PinnedResource[]> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'pin-'));
  try {
    const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:disable-asset-staging': true }, outdir, builtinCloudFormationValidation: false });
    const stages = environments.map((config) => new PlatformStage(app, config.name, { config }));
    app.synth();
    return Object.fromEntries(stages.map((stage) => [stage.stageName, stageStatefulResources(stage)]));
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** The options of `npm run pin`, or a one-line reason they are wrong. */
export function parseArguments(argv: string[]): { configDir: string; request: PinRequest } | { error: string } {
  let configDir = DEFAULT_CONFIG_DIR;
  const drops: string[] = [];
  let reason: string | undefined;
  for (let index = 0; index < argv.length; index++) {
    const flag = argv[index];
    const value = argv[index + 1];
    if (!['--config', '--drop', '--reason'].includes(flag)) {
      return { error: `unknown argument ${flag}; allowed: --config <folder>, --drop <logical ID> (repeatable), --reason "<why>"` };
    }
    if (value === undefined || value.startsWith('--')) {
      return { error: `${flag} needs a value` };
    }
    index++;
    if (flag === '--config') {
      configDir = path.resolve(value);
    } else if (flag === '--drop') {
      drops.push(value);
    } else {
      reason = value.trim();
    }
  }
  if (drops.length > 0 && (reason === undefined || reason.length < 10)) {
    return { error: '--drop needs --reason "<why>": say in a sentence why the resource and its data may go (at least 10 characters)' };
  }
  if (drops.length === 0 && reason !== undefined) {
    return { error: '--reason is recorded only with --drop <logical ID>' };
  }
  return { configDir, request: { drops, reason } };
}

/** Runs `npm run pin`; returns the exit code. `synthesize` is replaceable so that tests need no synth. */
export function main(
  argv: string[],
  synthesize: (environments: EnvironmentConfig[]) => Record<string, PinnedResource[]> = synthesizeStatefulResources,
): number {
  const parsed = parseArguments(argv);
  if ('error' in parsed) {
    console.error(`pin: ${parsed.error}`);
    return 2;
  }
  const { configDir, request } = parsed;
  const loaded = loadEnvironments(configDir);
  if (!loaded.ok) {
    console.error(loaded.message);
    return 1;
  }
  const lockDir = lockFolder(configDir);
  const names = loaded.environments.map((environment) => environment.name);
  // A lock whose environment is gone from config: its stacks keep running, so nothing is lost yet.
  const orphans = (fs.existsSync(lockDir) ? fs.readdirSync(lockDir) : [])
    .filter((file) => !file.startsWith('.'))
    .filter((file) => !(file.endsWith('.json') && names.includes(path.basename(file, '.json'))));
  if (orphans.length > 0) {
    for (const file of orphans) {
      const where = shown(path.join(lockDir, file));
      console.error(
        file.endsWith('.json')
          ? `pin: ${where} pins an environment with no config file; delete it once that environment's stacks are destroyed (docs/runbooks/stateful-resources.md)`
          : `pin: ${where} is not a lock; this folder holds only <environment>.json files written by npm run pin`,
      );
    }
    return 1;
  }
  let locks: Record<string, StatefulLock | undefined>;
  try {
    locks = Object.fromEntries(names.map((name) => [name, readLock(lockDir, name)]));
  } catch (error) {
    console.error(`pin: ${(error as Error).message}`);
    return 1;
  }
  let synthesized: Record<string, PinnedResource[]>;
  try {
    synthesized = synthesize(loaded.environments);
  } catch (error) {
    // The compliance checks belong to npm run synth; here any failure is the app's, named in one line.
    console.error(`pin: the app failed to synthesize, nothing was written: ${String((error as Error).message ?? error).split('\n')[0]}`);
    return 1;
  }
  const result = updateLocks(synthesized, locks, request, configDir);
  if (!result.ok) {
    result.problems.forEach((problem) => console.error(`pin: ${problem}`));
    console.error('pin: nothing was written');
    return 1;
  }
  fs.mkdirSync(lockDir, { recursive: true });
  for (const outcome of result.outcomes) {
    const file = lockFile(lockDir, outcome.environment);
    if (outcome.changed) {
      fs.writeFileSync(file, formatLock(outcome.lock));
    }
    console.log(`pin: ${shown(file)}: ${outcome.summary}`);
  }
  return 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
