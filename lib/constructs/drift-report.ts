import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { DriftInputFormat, DriftReference, DriftReportCronJob } from '../../charts/lib/drift-report-cron-job';
import { MlflowTeamAccounts } from './mlflow-team-accounts';
import { ScheduledModelJob, ScheduledModelJobProps } from './scheduled-model-job';
import { TeamJobIdentity } from './team-job-identity';

/** Metric each run publishes once: the share of the compared columns that drifted, 0 to 1. */
export const DRIFT_SHARE_METRIC = 'DriftShare';

/** Docker build context of the drift report image: all of images/, so that it shares images/mlflow/steps.py (images/.dockerignore admits only what it copies). */
export const DRIFT_REPORT_IMAGE_CONTEXT = path.join(__dirname, '..', '..', 'images');

/** The drift report image's Dockerfile, relative to {@link DRIFT_REPORT_IMAGE_CONTEXT}. */
export const DRIFT_REPORT_DOCKERFILE = 'drift-report/Dockerfile';

/** Properties of a {@link DriftReport}. */
export interface DriftReportProps extends ScheduledModelJobProps {
  /** The teams' MLflow accounts, which hold the team's login secret. */
  readonly mlflowAccounts: MlflowTeamAccounts;
  /** The reference data: an S3 folder, `s3://<bucket>/<prefix>/`, or an artifact of the run behind a registered model's alias. */
  readonly reference: DriftReference;
  /** Folder of the current data, `s3://<bucket>/<prefix>/`. */
  readonly current: string;
  /** Format of the files of both folders. */
  readonly format: DriftInputFormat;
  /** Share of drifted columns (0-1) above which the drift alarm fires. */
  readonly threshold: number;
  /** Name of the drift alarm, e.g. `mlops-prod-fraud-scorer-drift`. */
  readonly alarmName: string;
  /** Name of the missed-run alarm, e.g. `mlops-prod-fraud-scorer-drift-run`. */
  readonly runAlarmName: string;
}

/**
 * A model's scheduled drift report ({@link DriftReportCronJob}) with what it needs outside the
 * cluster: the drift report image; the team's job identity for the `<model>-drift` service account
 * (the team's MLflow login), read access to the current folder and to the reference folder, when the
 * reference is one (a registered model's artifact comes through the MLflow server, as the team's
 * user, so it needs no S3 access), and nothing else of S3; publishing to the model's drift metric namespace;
 * an alarm when the latest run's share of drifted columns is above the threshold; and a missed-run
 * alarm, since a job that stops running would otherwise leave the drift alarm quiet.
 */
export class DriftReport extends ScheduledModelJob {
  /** The role of the job's service account. */
  public readonly role: iam.Role;
  /** In ALARM while the latest run's `DriftShare` is above the threshold. */
  public readonly alarm: cloudwatch.Alarm;
  /** Fires when no run has completed within `alarmWindowHours`. */
  public readonly runAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: DriftReportProps) {
    super(scope, id, props, { kind: 'Drift', suffix: 'drift', component: 'drift-report' });
    const team = this.team;

    const identity = new TeamJobIdentity(this, 'Identity', {
      cluster: props.cluster.cluster,
      team,
      accounts: props.mlflowAccounts,
      serviceAccount: this.jobName,
    });
    this.role = identity.role;
    if (typeof props.reference === 'string') {
      identity.grantFolderRead(props.reference);
    }
    identity.grantFolderRead(props.current);
    identity.grantMetricPublishing(this.metricNamespace);

    // The init step's.
    const platformImage = this.platformImage();
    // The report step's, with Evidently, which the MLflow server image does not carry.
    const reportImage = new ecrAssets.DockerImageAsset(this, 'ReportImage', {
      directory: DRIFT_REPORT_IMAGE_CONTEXT,
      file: DRIFT_REPORT_DOCKERFILE,
      platform: ecrAssets.Platform.LINUX_AMD64,
    });
    const chart = this.jobChart();
    new DriftReportCronJob(chart, 'Job', {
      ...this.chartProps(platformImage),
      reportImage: reportImage.imageUri,
      reference: props.reference,
      current: props.current,
      format: props.format,
      threshold: props.threshold,
      model: props.model,
      mlflowSecretArn: identity.mlflowSecretArn,
      experiment: `${team}/drift`,
    });
    this.applyChart(chart, identity);

    this.alarm = new cloudwatch.Alarm(this, 'DriftAlarm', {
      alarmName: props.alarmName,
      alarmDescription:
        `${props.alarmName}: the latest drift report of model ${props.model} found a share of drifted columns above ${props.threshold} ` +
        `(${props.current} against ${describeReference(props.reference)}); the HTML report is in the MLflow experiment ${team}/drift; see docs/drift.md.`,
      metric: new cloudwatch.Metric({
        namespace: this.metricNamespace,
        metricName: DRIFT_SHARE_METRIC,
        dimensionsMap: this.metricDimensions,
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

    this.runAlarm = this.missedRunAlarm(
      props.runAlarmName,
      `${props.runAlarmName}: no drift report of model ${props.model} completed in ${props.alarmWindowHours} hours ` +
        `(schedule ${props.schedule} ${props.timeZone}): a folder could not be read, the report or MLflow failed, or a run was missed; see docs/drift.md.`,
    );
  }
}

/** The reference as the alarm describes it: the folder, or the artifact and the alias it is found by. */
function describeReference(reference: DriftReference): string {
  return typeof reference === 'string' ? reference : `${reference.artifactPath} of the run of ${reference.registeredModel}@${reference.alias}`;
}
