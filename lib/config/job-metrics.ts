/**
 * CloudWatch namespaces of the scheduled jobs' metrics. A job's role may publish to its namespace,
 * the job's container is told it, and the job's alarms watch it, so all three read it from here.
 *
 * IAM can confine `cloudwatch:PutMetricData` to a namespace (`cloudwatch:namespace`) but to no
 * dimension, so a namespace shared by several models would let any of their jobs, or a team's
 * training code holding its job's credentials, publish `Succeeded` for another model and silence
 * its missed-run alarm. Each model therefore has a namespace of its own per job kind, and per
 * environment too, since environments may share an account.
 */

/** The scheduled jobs that publish metrics, as their namespaces name them. */
export type ScheduledJobKind = 'Batch' | 'Training' | 'Drift';

/**
 * `MLOpsPlatform/<kind>/<environment>/<model>`, e.g. `MLOpsPlatform/Batch/mlops-prod/fraud-scorer`:
 * the one namespace the model's job of that kind publishes to. `environment` is
 * `<namePrefix>-<name>`; model names are unique in an environment, so no two jobs share one.
 */
export function jobMetricNamespace(kind: ScheduledJobKind, environment: string, model: string): string {
  return `MLOpsPlatform/${kind}/${environment}/${model}`;
}
