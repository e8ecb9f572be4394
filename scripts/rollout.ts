// The gate a deploy job passes before it moves a model's traffic one step further: prints the
// model's split as config gives it and the state of every version's SLO alarms in CloudWatch, and
// exits 0 only when every one of those alarms exists and is OK.
// Usage: npm run rollout -- <environment> <model> [--config <folder>]
// Exit codes: 0 gate open; 1 gate closed (an alarm in ALARM, not yet evaluated, or missing);
// 2 bad arguments or config, or CloudWatch could not be read. AWS credentials and region endpoint
// come from the environment as for any AWS SDK (AWS_PROFILE, AWS_ENDPOINT_URL…); the region is the
// environment's.
import * as path from 'node:path';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { modelAlarmNamePrefix, VERSION_ALARM_KINDS, versionAlarmNames } from '../lib/config/alarm-names';
import { versionWeights } from '../lib/config/capacity';
import { formatProblem, loadEnvironments } from '../lib/config/load';
import { EnvironmentConfig, ModelSettings } from '../lib/config/schema';
import { CONFIG_DIR } from './environment-selection';

const SCRIPT = 'rollout';
const USAGE = 'usage: npm run rollout -- <environment> <model> [--config <folder>]';

/** The state CloudWatch gives an alarm, or MISSING when it has no alarm of that name. */
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | 'MISSING';

/** The model the arguments name, with its environment, or the line that says why there is none. */
export type RolloutTarget =
  | { readonly ok: true; readonly environment: EnvironmentConfig; readonly model: ModelSettings }
  | { readonly ok: false; readonly lines: string[] };

/** Reads `<environment> <model> [--config <folder>]` and finds the model in the config folder. */
export function rolloutTarget(args: readonly string[]): RolloutTarget {
  let configDir = CONFIG_DIR;
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--config' && args[i + 1] !== undefined && !args[i + 1].startsWith('-')) {
      configDir = args[++i];
    } else if (args[i].startsWith('-')) {
      return { ok: false, lines: [`${SCRIPT}: unknown option ${args[i]}; ${USAGE}`] };
    } else {
      names.push(args[i]);
    }
  }
  if (names.length !== 2) {
    return { ok: false, lines: [`${SCRIPT}: expected an environment and a model, got ${names.length === 0 ? 'neither' : names.join(' ')}; ${USAGE}`] };
  }
  const [environmentName, modelName] = names;
  const loaded = loadEnvironments(configDir);
  if (!loaded.ok) {
    return { ok: false, lines: loaded.problems.map((problem) => `${SCRIPT}: ${formatProblem(problem)}`) };
  }
  const where = path.relative(process.cwd(), configDir) || '.';
  const environment = loaded.environments.find((candidate) => candidate.name === environmentName);
  if (!environment) {
    const known = loaded.environments.map((candidate) => candidate.name).join(', ');
    return { ok: false, lines: [`${SCRIPT}: no environment ${environmentName} in ${where} (it has ${known}); ${USAGE}`] };
  }
  const models = environment.teams.flatMap((team) => team.models);
  const model = models.find((candidate) => candidate.name === modelName);
  if (!model) {
    const known = models.map((candidate) => candidate.name).join(', ') || 'none';
    return { ok: false, lines: [`${SCRIPT}: no model ${modelName} in ${path.join(where, `${environmentName}.yaml`)} (it has ${known}); ${USAGE}`] };
  }
  return { ok: true, environment, model };
}

/** Every version alarm name of the model, as the serving stack creates them. */
export function modelAlarmNames(environment: EnvironmentConfig, model: ModelSettings): string[] {
  const prefix = modelAlarmNamePrefix(environment, model.name);
  return model.versions.flatMap((version) => Object.values(versionAlarmNames(prefix, version.name)));
}

/** The state of each named metric alarm; names CloudWatch does not know are left out. */
export async function alarmStates(client: CloudWatchClient, names: string[]): Promise<Map<string, AlarmState>> {
  const states = new Map<string, AlarmState>();
  let nextToken: string | undefined;
  do {
    // At most 5 versions of 4 alarms each: well within the 100 names one request takes.
    const page = await client.send(new DescribeAlarmsCommand({ AlarmNames: names, AlarmTypes: ['MetricAlarm'], MaxRecords: 100, NextToken: nextToken }));
    for (const alarm of page.MetricAlarms ?? []) {
      if (alarm.AlarmName && alarm.StateValue) {
        states.set(alarm.AlarmName, alarm.StateValue);
      }
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return states;
}

/** What the gate says: the lines to print, and whether the next weight step may go ahead. */
export interface RolloutReport {
  readonly lines: string[];
  readonly open: boolean;
}

/**
 * The model's split and its version alarms, and the gate's decision. The gate opens only when
 * every alarm of every version is OK, the versions at 0 % included: a version about to get traffic
 * must have healthy targets first. INSUFFICIENT_DATA closes it too: the alarms treat missing data
 * as good or bad on purpose, so they leave that state only once CloudWatch has evaluated them,
 * about a minute after they are created; until then nothing is known, and the gate fails closed.
 */
export function rolloutReport(environment: EnvironmentConfig, model: ModelSettings, states: ReadonlyMap<string, AlarmState>): RolloutReport {
  const weights = versionWeights(model);
  const { traffic } = model;
  const primary = model.versions[0].name;
  const prefix = modelAlarmNamePrefix(environment, model.name);
  const lines = [
    `${model.name} in ${environment.name} (alarms ${prefix}-*)`,
    `  split: ${model.versions.map((version) => `${version.name} ${weights[version.name]} %`).join(', ')}`,
    `  stickiness: ${traffic.stickinessSeconds ? `${traffic.stickinessSeconds} s` : 'none'}`,
    `  version header: ${traffic.versionHeader ?? 'none'}`,
    `  shadow: ${traffic.shadow ? `${traffic.shadow.version} gets a copy of ${traffic.shadow.percent} % of ${primary}'s requests` : 'none'}`,
    `  fallback: ${traffic.fallback ? `${traffic.fallback} answers when ${primary} fails` : 'none'}`,
  ];
  const problems: string[] = [];
  for (const version of model.versions) {
    const roles = [version.name === primary && 'primary', traffic.shadow?.version === version.name && 'shadow', traffic.fallback === version.name && 'fallback'].filter(Boolean);
    const names = versionAlarmNames(prefix, version.name);
    const kinds = VERSION_ALARM_KINDS.map((kind) => ({ kind, state: states.get(names[kind]) ?? 'MISSING' }));
    lines.push(
      `  ${version.name.padEnd(16)}${`${weights[version.name]} %`.padStart(6)}  ${roles.join(', ').padEnd(18)}` +
        kinds.map(({ kind, state }) => `${kind} ${state}`).join('  '),
    );
    problems.push(...kinds.filter(({ state }) => state !== 'OK').map(({ kind, state }) => `${version.name} ${kind} ${stateProblem(state)}`));
  }
  const open = problems.length === 0;
  lines.push(open ? 'gate: open, every version alarm is OK' : `gate: closed, ${problems.join('; ')}`);
  return { lines, open };
}

function stateProblem(state: AlarmState): string {
  switch (state) {
    case 'ALARM':
      return 'is in ALARM';
    case 'INSUFFICIENT_DATA':
      return 'is not evaluated yet (wait a minute after a deploy and run again)';
    case 'MISSING':
      return 'does not exist (is the serving stack deployed?)';
    default:
      return `is ${state}`;
  }
}

async function main(args: string[]): Promise<number> {
  const target = rolloutTarget(args);
  if (!target.ok) {
    target.lines.forEach((line) => console.error(line));
    return 2;
  }
  const { environment, model } = target;
  // The pinned SDK supports Node 20 (its engines say so); its notice that later releases will need
  // Node 22 would be a second, irrelevant line in every deploy job's log.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const client = new CloudWatchClient({ region: environment.region });
  let states: Map<string, AlarmState>;
  try {
    states = await alarmStates(client, modelAlarmNames(environment, model));
  } catch (error) {
    const failure = error as Error;
    console.error(`${SCRIPT}: cannot read the alarms of ${model.name} in ${environment.name} (${environment.region}): ${failure.name}: ${failure.message.split('\n')[0]}`);
    return 2;
  } finally {
    client.destroy();
  }
  const report = rolloutReport(environment, model, states);
  console.log(report.lines.join('\n'));
  return report.open ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
