import {
  modelAlarmNamePrefix,
  modelBatchAlarmName,
  modelDriftAlarmName,
  modelDriftRunAlarmName,
  modelSloAlarmName,
  VERSION_ALARM_KINDS,
  versionAlarmName,
  versionAlarmNames,
  versionAlarmPrefix,
} from '../../../lib/config/alarm-names';

const PROD = { namePrefix: 'mlops', name: 'prod' };

describe('alarm names', () => {
  test('name a version alarm <namePrefix>-<environment>-<model>-<version>-<kind>', () => {
    const prefix = versionAlarmPrefix(modelAlarmNamePrefix(PROD, 'fraud-scorer'), 'v7');
    expect(versionAlarmName(prefix, 'p95-latency')).toBe('mlops-prod-fraud-scorer-v7-p95-latency');
  });

  test('name the composite alarm of a model <namePrefix>-<environment>-<model>-slo', () => {
    expect(modelSloAlarmName(modelAlarmNamePrefix(PROD, 'fraud-scorer'))).toBe('mlops-prod-fraud-scorer-slo');
  });

  test("name a batch job's missed-run alarm <namePrefix>-<environment>-<model>-batch, never like a version alarm, even of a version named batch", () => {
    const model = modelAlarmNamePrefix(PROD, 'fraud-scorer');
    expect(modelBatchAlarmName(model)).toBe('mlops-prod-fraud-scorer-batch');
    expect(Object.values(versionAlarmNames(model, 'batch'))).not.toContain(modelBatchAlarmName(model));
  });

  test("name a drift report's alarms <namePrefix>-<environment>-<model>-drift and -drift-run, never like a version alarm, even of a version named drift", () => {
    const model = modelAlarmNamePrefix(PROD, 'fraud-scorer');
    expect([modelDriftAlarmName(model), modelDriftRunAlarmName(model)]).toEqual(['mlops-prod-fraud-scorer-drift', 'mlops-prod-fraud-scorer-drift-run']);
    expect(Object.values(versionAlarmNames(model, 'drift'))).not.toContain(modelDriftAlarmName(model));
    expect(Object.values(versionAlarmNames(model, 'drift'))).not.toContain(modelDriftRunAlarmName(model));
  });

  test('list the four kinds every version has', () => {
    expect(VERSION_ALARM_KINDS).toEqual(['p95-latency', 'p99-latency', 'error-ratio', 'no-healthy-targets']);
  });

  test('give every alarm name of a version, by kind', () => {
    expect(versionAlarmNames(modelAlarmNamePrefix(PROD, 'churn'), 'v2')).toEqual({
      'p95-latency': 'mlops-prod-churn-v2-p95-latency',
      'p99-latency': 'mlops-prod-churn-v2-p99-latency',
      'error-ratio': 'mlops-prod-churn-v2-error-ratio',
      'no-healthy-targets': 'mlops-prod-churn-v2-no-healthy-targets',
    });
  });

  test('keep the names of one environment apart from another sharing the account', () => {
    const staging = versionAlarmNames(modelAlarmNamePrefix({ namePrefix: 'mlops', name: 'staging' }, 'churn'), 'v2');
    const prod = versionAlarmNames(modelAlarmNamePrefix(PROD, 'churn'), 'v2');
    expect(Object.values(staging).filter((name) => Object.values(prod).includes(name))).toEqual([]);
  });

  test('never name a composite alarm like a version alarm', () => {
    const model = modelAlarmNamePrefix(PROD, 'churn');
    const composite = modelSloAlarmName(model);
    expect(VERSION_ALARM_KINDS.some((kind) => composite.endsWith(`-${kind}`))).toBe(false);
  });
});
