/**
 * Names of the serving SLO alarms and of the batch jobs' missed-run alarms. The stacks create alarms
 * under these names and `npm run rollout` looks the SLO alarms up by the same names, so both read
 * them from here, below both.
 *
 * A model's alarm names start `<namePrefix>-<environment>-<model>`. Each version has one alarm of
 * every kind, `<namePrefix>-<environment>-<model>-<version>-<kind>`, and the model one composite
 * alarm, `<namePrefix>-<environment>-<model>-slo`; `slo` is no alarm kind, so the composite cannot be
 * mistaken for a version's alarm. A model with a batch job has `<namePrefix>-<environment>-<model>-batch`,
 * which ends in no kind either, one with a training job `<namePrefix>-<environment>-<model>-training`, and one
 * with a drift report `<namePrefix>-<environment>-<model>-drift` and `<namePrefix>-<environment>-<model>-drift-run`.
 */
import type { EnvironmentConfig } from './schema';

/** What a model version is alarmed on, in the order its alarms are created. */
export const VERSION_ALARM_KINDS = ['p95-latency', 'p99-latency', 'error-ratio', 'no-healthy-targets'] as const;

/** One kind of model version alarm. */
export type VersionAlarmKind = (typeof VERSION_ALARM_KINDS)[number];

/** `<namePrefix>-<environment>-<model>`: the start of every alarm name of a model. */
export function modelAlarmNamePrefix(environment: Pick<EnvironmentConfig, 'namePrefix' | 'name'>, model: string): string {
  return `${environment.namePrefix}-${environment.name}-${model}`;
}

/** `<modelPrefix>-<version>`: the start of a model version's alarm names. */
export function versionAlarmPrefix(modelPrefix: string, version: string): string {
  return `${modelPrefix}-${version}`;
}

/** `<versionPrefix>-<kind>`: one alarm of a model version. */
export function versionAlarmName(versionPrefix: string, kind: VersionAlarmKind): string {
  return `${versionPrefix}-${kind}`;
}

/** `<modelPrefix>-slo`: the composite alarm that is in ALARM while any of the model's version alarms is. */
export function modelSloAlarmName(modelPrefix: string): string {
  return `${modelPrefix}-slo`;
}

/** `<modelPrefix>-batch`: the alarm that fires when the model's batch inference job has not completed a run in time. */
export function modelBatchAlarmName(modelPrefix: string): string {
  return `${modelPrefix}-batch`;
}

/** `<modelPrefix>-training`: the alarm that fires when the model's training job has not completed a run in time. */
export function modelTrainingAlarmName(modelPrefix: string): string {
  return `${modelPrefix}-training`;
}

/** `<modelPrefix>-drift`: the alarm that fires when the model's latest drift report found more drift than its threshold. */
export function modelDriftAlarmName(modelPrefix: string): string {
  return `${modelPrefix}-drift`;
}

/** `<modelPrefix>-drift-run`: the alarm that fires when the model's drift report job has not completed a run in time. */
export function modelDriftRunAlarmName(modelPrefix: string): string {
  return `${modelPrefix}-drift-run`;
}

/** Every alarm name of one model version, by kind. */
export function versionAlarmNames(modelPrefix: string, version: string): Record<VersionAlarmKind, string> {
  const prefix = versionAlarmPrefix(modelPrefix, version);
  return Object.fromEntries(VERSION_ALARM_KINDS.map((kind) => [kind, versionAlarmName(prefix, kind)])) as Record<VersionAlarmKind, string>;
}
