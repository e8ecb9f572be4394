import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ScheduledJobGpu } from '../../charts/lib/scheduled-job';
import { TrainingCronJob } from '../../charts/lib/training-cron-job';
import { GpuNodePools } from './gpu-node-pools';
import { MlflowTeamAccounts } from './mlflow-team-accounts';
import { ScheduledModelJob, ScheduledModelJobProps } from './scheduled-model-job';
import { TeamJobIdentity } from './team-job-identity';

/** Properties of a {@link ModelTraining}. */
export interface ModelTrainingProps extends ScheduledModelJobProps {
  /** The teams' MLflow accounts, which hold the team's login secret. */
  readonly mlflowAccounts: MlflowTeamAccounts;
  /** GPU node pools, applied before the job. @default - none */
  readonly gpuNodePools?: GpuNodePools;
  /** MLflow registered model the training registers versions of. */
  readonly registeredModel: string;
  /** The team's training image, in the model's ECR repository. */
  readonly trainingImage: string;
  /** Command of the training step, the program first. */
  readonly command: readonly string[];
  /** Folder of training data the team owns, `s3://<bucket>/<prefix>/`, which the training step may list and read. @default - none: the step gets no AWS credentials */
  readonly input?: string;
  /** KMS key the input files are encrypted with. @default - S3-managed keys, or a key whose policy lets the role in */
  readonly inputKmsKeyArn?: string;
  /** MLflow experiment the training runs log to, `<team>/...`. */
  readonly experiment: string;
  /** Metric the promotion gate compares. */
  readonly metric: string;
  /** `max` when a higher metric is better, `min` when lower is. */
  readonly direction: 'max' | 'min';
  /** Least improvement, in the metric's units, that moves `champion`. */
  readonly minImprovement: number;
  /** GPUs of the training step and their pool. @default - the general CPU pool */
  readonly gpu?: ScheduledJobGpu;
  /** Name of the missed-run alarm, e.g. `mlops-prod-fraud-scorer-training`. */
  readonly alarmName: string;
}

/**
 * A model's scheduled training ({@link TrainingCronJob}) with what it needs outside the cluster:
 * the team's job identity (a {@link TeamJobIdentity} for the `<model>-training` service account,
 * reading the team's MLflow login and nothing else) that may also publish the job's metric, in the model's own namespace, and,
 * with an `input`, list and read that folder and nothing else of its bucket; the platform image
 * of its credentials, promotion and report steps; and an alarm to the environment's
 * topic when no run has completed for longer than the schedule allows, which a failed, a missed
 * and a stuck run all come to.
 */
export class ModelTraining extends ScheduledModelJob {
  /** The role of the job's service account. */
  public readonly role: iam.Role;
  /** Fires when no run has completed within `alarmWindowHours`. */
  public readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ModelTrainingProps) {
    super(scope, id, props, { kind: 'Training', suffix: 'training', component: 'training' });

    // One identity per model rather than the team's shared one, so each job's service account,
    // association and metric permission come and go with its model's stack.
    const identity = new TeamJobIdentity(this, 'Identity', {
      cluster: props.cluster.cluster,
      team: this.team,
      accounts: props.mlflowAccounts,
      serviceAccount: this.jobName,
    });
    this.role = identity.role;
    if (props.input) {
      identity.grantFolderRead(props.input, props.inputKmsKeyArn);
    }
    identity.grantMetricPublishing(this.metricNamespace);

    const platformImage = this.platformImage();
    const chart = this.jobChart();
    new TrainingCronJob(chart, 'Job', {
      ...this.chartProps(platformImage),
      trainingImage: props.trainingImage,
      command: props.command,
      input: props.input,
      mlflowSecretArn: identity.mlflowSecretArn,
      experiment: props.experiment,
      registeredModel: props.registeredModel,
      metric: props.metric,
      direction: props.direction,
      minImprovement: props.minImprovement,
      promotionExperiment: `${this.team}/promotions`,
      gpu: props.gpu,
    });
    this.applyChart(chart, identity, props.gpuNodePools);

    this.alarm = this.missedRunAlarm(
      props.alarmName,
      `${props.alarmName}: no training run of model ${props.model} completed in ${props.alarmWindowHours} hours ` +
        `(schedule ${props.schedule} ${props.timeZone}): training or the promotion gate failed, a run was missed or is stuck; see docs/training.md.`,
    );
  }
}
