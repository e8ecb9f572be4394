import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { modelAlarmNamePrefix, VERSION_ALARM_KINDS, versionAlarmNames } from '../../lib/config/alarm-names';
import { AlarmState, alarmStates, modelAlarmNames, rolloutReport, rolloutTarget } from '../../scripts/rollout';
import { fixtureConfigFolder, fixtureEnvironment, MINIMAL_ENVIRONMENT, MINIMAL_MODEL, MINIMAL_VERSION } from '../helpers/app';
import { errorLines, runScript } from '../helpers/run-script';

const SETTINGS = {
  ...MINIMAL_ENVIRONMENT,
  ingress: { servingDomain: 'models.sandbox.example.internal' },
  teams: [
    {
      name: 'fraud',
      quota: { cpu: 64, memoryGiB: 256, pods: 100 },
      models: [
        {
          ...MINIMAL_MODEL,
          name: 'fraud-scorer',
          registeredModel: 'fraud-scorer',
          versions: [
            { ...MINIMAL_VERSION, name: 'v7' },
            { ...MINIMAL_VERSION, name: 'v8', alias: 'challenger' },
            { ...MINIMAL_VERSION, name: 'v9', alias: 'shadowed' },
          ],
          traffic: { weights: { v7: 90, v8: 10 }, stickinessSeconds: 3600, versionHeader: 'x-model-version', shadow: { version: 'v9', percent: 10 } },
        },
        MINIMAL_MODEL,
      ],
    },
  ],
};

const environment = fixtureEnvironment(SETTINGS);
const model = environment.teams[0].models[0];
const prefix = modelAlarmNamePrefix(environment, 'fraud-scorer');

/** Every version alarm in `state`, but those `overrides` names. */
function states(state: AlarmState, overrides: Record<string, AlarmState> = {}): Map<string, AlarmState> {
  const all = new Map(modelAlarmNames(environment, model).map((name) => [name, state] as [string, AlarmState]));
  for (const [name, override] of Object.entries(overrides)) {
    if (override === 'MISSING') {
      all.delete(name);
    } else {
      all.set(name, override);
    }
  }
  return all;
}

describe('npm run rollout', () => {
  test('prints the split, stickiness, version header, shadow and fallback config gives the model', () => {
    expect(rolloutReport(environment, model, states('OK')).lines.slice(0, 6)).toEqual([
      'fraud-scorer in sandbox (alarms mlops-sandbox-fraud-scorer-*)',
      '  split: v7 90 %, v8 10 %, v9 0 %',
      '  stickiness: 3600 s',
      '  version header: x-model-version',
      "  shadow: v9 gets a copy of 10 % of v7's requests",
      '  fallback: none',
    ]);
  });

  test('prints each version with its weight, role and the state of each of its alarms', () => {
    const lines = rolloutReport(environment, model, states('OK', { [versionAlarmNames(prefix, 'v8')['error-ratio']]: 'ALARM' })).lines;
    expect(lines.slice(6, 9).map((line) => line.replace(/ +/g, ' '))).toEqual([
      ' v7 90 % primary p95-latency OK p99-latency OK error-ratio OK no-healthy-targets OK',
      ' v8 10 % p95-latency OK p99-latency OK error-ratio ALARM no-healthy-targets OK',
      ' v9 0 % shadow p95-latency OK p99-latency OK error-ratio OK no-healthy-targets OK',
    ]);
  });

  test('opens the gate when every alarm of every version is OK', () => {
    const report = rolloutReport(environment, model, states('OK'));
    expect([report.open, report.lines[report.lines.length - 1]]).toEqual([true, 'gate: open, every version alarm is OK']);
  });

  test('closes the gate on any alarm in ALARM, of a version at 0 % too, naming each', () => {
    const names = versionAlarmNames(prefix, 'v9');
    const report = rolloutReport(environment, model, states('OK', { [names['no-healthy-targets']]: 'ALARM', [names['p99-latency']]: 'ALARM' }));
    expect([report.open, report.lines[report.lines.length - 1]]).toEqual([false, 'gate: closed, v9 p99-latency is in ALARM; v9 no-healthy-targets is in ALARM']);
  });

  test('closes the gate while an alarm has not been evaluated yet', () => {
    const report = rolloutReport(environment, model, states('OK', { [versionAlarmNames(prefix, 'v8')['p95-latency']]: 'INSUFFICIENT_DATA' }));
    expect(report.open).toBe(false);
    expect(report.lines[report.lines.length - 1]).toBe('gate: closed, v8 p95-latency is not evaluated yet (wait a minute after a deploy and run again)');
  });

  test('closes the gate when an alarm does not exist', () => {
    const report = rolloutReport(environment, model, states('OK', { [versionAlarmNames(prefix, 'v7')['error-ratio']]: 'MISSING' }));
    expect(report.open).toBe(false);
    expect(report.lines[report.lines.length - 1]).toBe('gate: closed, v7 error-ratio does not exist (is the serving stack deployed?)');
  });

  test('asks for the four alarms of every version by the names the serving stack gives them', () => {
    expect(modelAlarmNames(environment, model)).toEqual(
      ['v7', 'v8', 'v9'].flatMap((version) => VERSION_ALARM_KINDS.map((kind) => `mlops-sandbox-fraud-scorer-${version}-${kind}`)),
    );
  });

  test('reads every page CloudWatch answers with', async () => {
    const requests: unknown[] = [];
    const pages = [
      { MetricAlarms: [{ AlarmName: 'a', StateValue: 'OK' }], NextToken: 'next' },
      { MetricAlarms: [{ AlarmName: 'b', StateValue: 'ALARM' }] },
    ];
    const client = {
      send: async (command: DescribeAlarmsCommand) => {
        requests.push(command.input);
        return pages[requests.length - 1];
      },
    } as unknown as CloudWatchClient;
    expect([...(await alarmStates(client, ['a', 'b']))]).toEqual([
      ['a', 'OK'],
      ['b', 'ALARM'],
    ]);
    expect(requests).toEqual([
      { AlarmNames: ['a', 'b'], AlarmTypes: ['MetricAlarm'], MaxRecords: 100, NextToken: undefined },
      { AlarmNames: ['a', 'b'], AlarmTypes: ['MetricAlarm'], MaxRecords: 100, NextToken: 'next' },
    ]);
  });

  describe('bad arguments', () => {
    const folder = fixtureConfigFolder({ sandbox: SETTINGS });

    test('finds the model of the environment in the config folder', () => {
      const target = rolloutTarget(['sandbox', 'churn', '--config', folder]);
      expect(target.ok && [target.environment.name, target.model.name]).toEqual(['sandbox', 'churn']);
    });

    test.each([
      [['sandbox'], /^rollout: expected an environment and a model, got sandbox; usage: npm run rollout -- <environment> <model> \[--config <folder>\]$/],
      [['prod', 'churn'], /^rollout: no environment prod in .+ \(it has sandbox\); usage: /],
      [['sandbox', 'fraud'], /^rollout: no model fraud in .+sandbox\.yaml \(it has fraud-scorer, churn\); usage: /],
      [['sandbox', 'churn', '--region', 'x'], /^rollout: unknown option --region; usage: /],
    ])('%j gets one line saying what is wrong, and exit code 2, before any AWS call', (args, message) => {
      const run = runScript('rollout.ts', [...args, '--config', folder]);
      expect({ status: run.status, stdout: run.stdout, stderr: errorLines(run) }).toEqual({ status: 2, stdout: '', stderr: [expect.stringMatching(message)] });
    });
  });
});
