import { Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { ModelResources } from '../../charts/lib/model-version-deployment';
import { TrainingCronJob } from '../../charts/lib/training-cron-job';
import { MODEL_LABEL } from '../../charts/model-serving-chart';
import { BATCH_STARTING_DEADLINE_MINUTES } from '../config/batch-inference';
import { acknowledgeWildcardResource } from '../compliance';
import { GpuNodePools } from './gpu-node-pools';
import { MLFLOW_IMAGE_DIRECTORY } from './mlflow-server';
import { MlflowTeamAccounts } from './mlflow-team-accounts';
import { PlatformCluster } from './platform-cluster';
import { PlatformManifest } from './platform-manifest';
import { ScheduledJobAlarm } from './scheduled-job-alarm';
import { TeamJobIdentity } from './team-job-identity';
import { TeamNamespace } from './team-namespace';

/** CloudWatch namespace of the training jobs' metrics; the jobs' roles may publish to it alone. */
export const TRAINING_METRIC_NAMESPACE = 'MLOpsPlatform/Training';

/** Metric each complete run (training, then the promotion gate) publishes once, with value 1. */
export const TRAINING_SUCCEEDED_METRIC = 'Succeeded';

/** Properties of a {@link ModelTraining}. */
export interface ModelTrainingProps {
  /** Cluster the job runs on. */
  readonly cluster: PlatformCluster;
  /** Namespace of the model's team; the job is applied after it. */
  readonly namespace: TeamNamespace;
  /** The teams' MLflow accounts, which hold the team's login secret. */
  readonly mlflowAccounts: MlflowTeamAccounts;
  /** GPU node pools, applied before the job. @default - none */
  readonly gpuNodePools?: GpuNodePools;
  /** Model name; the job and its service account are `<model>-training`. */
  readonly model: string;
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
  /** Cron expression (5 fields) of the runs, at most once a day. */
  readonly schedule: string;
  /** IANA time zone of the schedule. */
  readonly timeZone: string;
  /** MLflow experiment the training runs log to, `<team>/...`. */
  readonly experiment: string;
  /** Metric the promotion gate compares. */
  readonly metric: string;
  /** `max` when a higher metric is better, `min` when lower is. */
  readonly direction: 'max' | 'min';
  /** Least improvement, in the metric's units, that moves `champion`. */
  readonly minImprovement: number;
  /** Longest a run may take, its retries included, in minutes. */
  readonly timeoutMinutes: number;
  /** Times a failed run starts again in a new pod. */
  readonly retries: number;
  /** CPU and memory of the training step. */
  readonly resources: ModelResources;
  /** GPUs of the training step and their pool. @default - the general CPU pool */
  readonly gpu?: { readonly pool: string; readonly count: number };
  /** Size of the pod's scratch volume, in GiB. */
  readonly workVolumeGiB: number;
  /** Hours without a complete run after which the alarm fires (at most 168). */
  readonly alarmWindowHours: number;
  /** Topic the alarm notifies. */
  readonly alarmTopic: sns.ITopic;
  /** Name of the alarm, e.g. `mlops-prod-fraud-scorer-training`. */
  readonly alarmName: string;
  /** Environment the job belongs to, a dimension of its metric, e.g. `mlops-prod`. */
  readonly environment: string;
}

/**
 * A model's scheduled training ({@link TrainingCronJob}) with what it needs outside the cluster:
 * the team's job identity (a {@link TeamJobIdentity} for the `<model>-training` service account,
 * reading the team's MLflow login and nothing else) that may also publish the job's metric and,
 * with an `input`, list and read that folder and nothing else of its bucket; the platform image
 * of its credentials, promotion and report steps; and an alarm to the environment's
 * topic when no run has completed for longer than the schedule allows, which a failed, a missed
 * and a stuck run all come to.
 */
export class ModelTraining extends Construct {
  /** The role of the job's service account. */
  public readonly role: iam.Role;
  /** Fires when no run has completed within `alarmWindowHours`. */
  public readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ModelTrainingProps) {
    super(scope, id);
    const name = `${props.model}-training`;
    const team = props.namespace.team;

    // One identity per model rather than the team's shared one, so each job's service account,
    // association and metric permission come and go with its model's stack.
    const identity = new TeamJobIdentity(this, 'Identity', {
      cluster: props.cluster.cluster,
      team,
      accounts: props.mlflowAccounts,
      serviceAccount: name,
    });
    this.role = identity.role;
    if (props.input) {
      identity.grantFolderRead(props.input, props.inputKmsKeyArn);
    }
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': TRAINING_METRIC_NAMESPACE } },
      }),
    );
    acknowledgeWildcardResource(
      identity,
      '*',
      `cloudwatch:PutMetricData has no resource-level permissions; the role may publish to the ${TRAINING_METRIC_NAMESPACE} namespace only.`,
    );

    // The same folder gives the same asset as the MLflow stack's, built and pushed once.
    const platformImage = new ecrAssets.DockerImageAsset(this, 'PlatformImage', {
      directory: MLFLOW_IMAGE_DIRECTORY,
      platform: ecrAssets.Platform.LINUX_AMD64,
    });

    const dimensions = { Environment: props.environment, Model: props.model };
    const chart = new cdk8s.Chart(new cdk8s.App(), name, { disableResourceNameHashes: true });
    new TrainingCronJob(chart, 'Job', {
      name,
      namespace: team,
      labels: {
        'app.kubernetes.io/name': name,
        'app.kubernetes.io/part-of': team,
        'app.kubernetes.io/component': 'training',
        [MODEL_LABEL]: props.model,
      },
      schedule: props.schedule,
      timeZone: props.timeZone,
      startingDeadlineMinutes: BATCH_STARTING_DEADLINE_MINUTES,
      timeoutMinutes: props.timeoutMinutes,
      retries: props.retries,
      platformImage: platformImage.imageUri,
      trainingImage: props.trainingImage,
      command: props.command,
      input: props.input,
      mlflowSecretArn: identity.mlflowSecretArn,
      experiment: props.experiment,
      registeredModel: props.registeredModel,
      metric: props.metric,
      direction: props.direction,
      minImprovement: props.minImprovement,
      promotionExperiment: `${team}/promotions`,
      region: Stack.of(this).region,
      metricNamespace: TRAINING_METRIC_NAMESPACE,
      metricDimensions: dimensions,
      resources: props.resources,
      gpu: props.gpu,
      workVolumeGiB: props.workVolumeGiB,
    });
    const manifest = new PlatformManifest(this, 'Chart', { cluster: props.cluster, chart });
    // Pods get Pod Identity credentials only if the association exists when they are admitted.
    manifest.node.addDependency(identity, props.namespace.manifest);
    if (props.gpuNodePools) {
      manifest.node.addDependency(props.gpuNodePools);
    }

    this.alarm = new ScheduledJobAlarm(this, 'MissedRunAlarm', {
      alarmName: props.alarmName,
      alarmDescription:
        `${props.alarmName}: no training run of model ${props.model} completed in ${props.alarmWindowHours} hours ` +
        `(schedule ${props.schedule} ${props.timeZone}): training or the promotion gate failed, a run was missed or is stuck; see docs/training.md.`,
      metricNamespace: TRAINING_METRIC_NAMESPACE,
      metricName: TRAINING_SUCCEEDED_METRIC,
      dimensions,
      windowHours: props.alarmWindowHours,
      topic: props.alarmTopic,
    });
  }
}
