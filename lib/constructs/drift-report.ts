import * as path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { DriftInputFormat, DriftReference, DriftReportCronJob } from '../../charts/lib/drift-report-cron-job';
import { ModelResources } from '../../charts/lib/model-version-deployment';
import { MODEL_LABEL } from '../../charts/model-serving-chart';
import { BATCH_STARTING_DEADLINE_MINUTES } from '../config/batch-inference';
import { acknowledgeWildcardResource } from '../compliance';
import { MLFLOW_IMAGE_DIRECTORY } from './mlflow-server';
import { MlflowTeamAccounts } from './mlflow-team-accounts';
import { PlatformCluster } from './platform-cluster';
import { PlatformManifest } from './platform-manifest';
import { ScheduledJobAlarm } from './scheduled-job-alarm';
import { TeamJobIdentity } from './team-job-identity';
import { TeamNamespace } from './team-namespace';

/** CloudWatch namespace of the drift jobs' metrics; the jobs' roles may publish to it alone. */
export const DRIFT_METRIC_NAMESPACE = 'MLOpsPlatform/Drift';

/** Metric each run publishes once: the share of the compared columns that drifted, 0 to 1. */
export const DRIFT_SHARE_METRIC = 'DriftShare';

/** Metric each complete run publishes once, with value 1, after its report is logged. */
export const DRIFT_SUCCEEDED_METRIC = 'Succeeded';

/** Docker build context of the drift report image: all of images/, so that it shares images/mlflow/batch.py (images/.dockerignore admits only what it copies). */
export const DRIFT_REPORT_IMAGE_CONTEXT = path.join(__dirname, '..', '..', 'images');

/** The drift report image's Dockerfile, relative to {@link DRIFT_REPORT_IMAGE_CONTEXT}. */
export const DRIFT_REPORT_DOCKERFILE = 'drift-report/Dockerfile';

/** Properties of a {@link DriftReport}. */
export interface DriftReportProps {
  /** Cluster the job runs on. */
  readonly cluster: PlatformCluster;
  /** Namespace of the model's team; the job is applied after it. */
  readonly namespace: TeamNamespace;
  /** The teams' MLflow accounts, which hold the team's login secret. */
  readonly mlflowAccounts: MlflowTeamAccounts;
  /** Model name; the job and its service account are `<model>-drift`. */
  readonly model: string;
  /** Cron expression (5 fields) of the runs, at most once a day. */
  readonly schedule: string;
  /** IANA time zone of the schedule. */
  readonly timeZone: string;
  /** The reference data: an S3 folder, `s3://<bucket>/<prefix>/`, or an artifact of the run behind a registered model's alias. */
  readonly reference: DriftReference;
  /** Folder of the current data, `s3://<bucket>/<prefix>/`. */
  readonly current: string;
  /** Format of the files of both folders. */
  readonly format: DriftInputFormat;
  /** Share of drifted columns (0-1) above which the drift alarm fires. */
  readonly threshold: number;
  /** Longest a run may take, its retries included, in minutes. */
  readonly timeoutMinutes: number;
  /** Times a failed run starts again in a new pod. */
  readonly retries: number;
  /** CPU and memory of the report step. */
  readonly resources: ModelResources;
  /** Size of the pod's scratch volume, in GiB. */
  readonly workVolumeGiB: number;
  /** Hours without a complete run after which the missed-run alarm fires (at most 168). */
  readonly alarmWindowHours: number;
  /** Topic both alarms notify. */
  readonly alarmTopic: sns.ITopic;
  /** Name of the drift alarm, e.g. `mlops-prod-fraud-scorer-drift`. */
  readonly alarmName: string;
  /** Name of the missed-run alarm, e.g. `mlops-prod-fraud-scorer-drift-run`. */
  readonly runAlarmName: string;
  /** Environment the job belongs to, a dimension of its metrics, e.g. `mlops-prod`. */
  readonly environment: string;
}

/**
 * A model's scheduled drift report ({@link DriftReportCronJob}) with what it needs outside the
 * cluster: the drift report image; the team's job identity for the `<model>-drift` service account
 * (the team's MLflow login), read access to the current folder and to the reference folder, when the
 * reference is one (a registered model's artifact comes through the MLflow server, as the team's
 * user, so it needs no S3 access), and nothing else of S3; publishing to the drift metric namespace;
 * an alarm when the latest run's share of drifted columns is above the threshold; and a missed-run
 * alarm, since a job that stops running would otherwise leave the drift alarm quiet.
 */
export class DriftReport extends Construct {
  /** The role of the job's service account. */
  public readonly role: iam.Role;
  /** In ALARM while the latest run's `DriftShare` is above the threshold. */
  public readonly alarm: cloudwatch.Alarm;
  /** Fires when no run has completed within `alarmWindowHours`. */
  public readonly runAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: DriftReportProps) {
    super(scope, id);
    const name = `${props.model}-drift`;
    const team = props.namespace.team;

    const identity = new TeamJobIdentity(this, 'Identity', {
      cluster: props.cluster.cluster,
      team,
      accounts: props.mlflowAccounts,
      serviceAccount: name,
    });
    this.role = identity.role;
    if (typeof props.reference === 'string') {
      identity.grantFolderRead(props.reference);
    }
    identity.grantFolderRead(props.current);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': DRIFT_METRIC_NAMESPACE } },
      }),
    );
    acknowledgeWildcardResource(
      identity,
      '*',
      `cloudwatch:PutMetricData has no resource-level permissions; the role may publish to the ${DRIFT_METRIC_NAMESPACE} namespace only.`,
    );

    // The init step's: the same folder gives the same asset as the MLflow stack's, built and pushed once.
    const platformImage = new ecrAssets.DockerImageAsset(this, 'PlatformImage', {
      directory: MLFLOW_IMAGE_DIRECTORY,
      platform: ecrAssets.Platform.LINUX_AMD64,
    });
    // The report step's, with Evidently, which the MLflow server image does not carry.
    const reportImage = new ecrAssets.DockerImageAsset(this, 'ReportImage', {
      directory: DRIFT_REPORT_IMAGE_CONTEXT,
      file: DRIFT_REPORT_DOCKERFILE,
      platform: ecrAssets.Platform.LINUX_AMD64,
    });

    const dimensions = { Environment: props.environment, Model: props.model };
    const chart = new cdk8s.Chart(new cdk8s.App(), name, { disableResourceNameHashes: true });
    new DriftReportCronJob(chart, 'Job', {
      name,
      namespace: team,
      labels: {
        'app.kubernetes.io/name': name,
        'app.kubernetes.io/part-of': team,
        'app.kubernetes.io/component': 'drift-report',
        [MODEL_LABEL]: props.model,
      },
      schedule: props.schedule,
      timeZone: props.timeZone,
      startingDeadlineMinutes: BATCH_STARTING_DEADLINE_MINUTES,
      timeoutMinutes: props.timeoutMinutes,
      retries: props.retries,
      platformImage: platformImage.imageUri,
      reportImage: reportImage.imageUri,
      reference: props.reference,
      current: props.current,
      format: props.format,
      threshold: props.threshold,
      model: props.model,
      mlflowSecretArn: identity.mlflowSecretArn,
      experiment: `${team}/drift`,
      region: Stack.of(this).region,
      metricNamespace: DRIFT_METRIC_NAMESPACE,
      metricDimensions: dimensions,
      resources: props.resources,
      workVolumeGiB: props.workVolumeGiB,
    });
    const manifest = new PlatformManifest(this, 'Chart', { cluster: props.cluster, chart });
    // Pods get Pod Identity credentials only if the association exists when they are admitted.
    manifest.node.addDependency(identity, props.namespace.manifest);

    this.alarm = new cloudwatch.Alarm(this, 'DriftAlarm', {
      alarmName: props.alarmName,
      alarmDescription:
        `${props.alarmName}: the latest drift report of model ${props.model} found a share of drifted columns above ${props.threshold} ` +
        `(${props.current} against ${describeReference(props.reference)}); the HTML report is in the MLflow experiment ${team}/drift; see docs/drift.md.`,
      metric: new cloudwatch.Metric({
        namespace: DRIFT_METRIC_NAMESPACE,
        metricName: DRIFT_SHARE_METRIC,
        dimensionsMap: dimensions,
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.hours(1),
      }),
      threshold: props.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // One value a day: between runs the alarm keeps the latest run's verdict; the missed-run alarm covers a job that stopped.
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    });
    const action = new actions.SnsAction(props.alarmTopic);
    this.alarm.addAlarmAction(action);
    this.alarm.addOkAction(action);

    this.runAlarm = new ScheduledJobAlarm(this, 'MissedRunAlarm', {
      alarmName: props.runAlarmName,
      alarmDescription:
        `${props.runAlarmName}: no drift report of model ${props.model} completed in ${props.alarmWindowHours} hours ` +
        `(schedule ${props.schedule} ${props.timeZone}): a folder could not be read, the report or MLflow failed, or a run was missed; see docs/drift.md.`,
      metricNamespace: DRIFT_METRIC_NAMESPACE,
      metricName: DRIFT_SUCCEEDED_METRIC,
      dimensions,
      windowHours: props.alarmWindowHours,
      topic: props.alarmTopic,
    });
  }
}

/** The reference as the alarm describes it: the folder, or the artifact and the alias it is found by. */
function describeReference(reference: DriftReference): string {
  return typeof reference === 'string' ? reference : `${reference.artifactPath} of the run of ${reference.registeredModel}@${reference.alias}`;
}
