import { Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { BatchInferenceCronJob, BatchInputFormat } from '../../charts/lib/batch-inference-cron-job';
import { MODEL_LABEL } from '../../charts/model-serving-chart';
import { ModelResources } from '../../charts/lib/model-version-deployment';
import { BATCH_STARTING_DEADLINE_MINUTES } from '../config/batch-inference';
import { acknowledgeWildcardResource } from '../compliance';
import { GpuNodePools } from './gpu-node-pools';
import { MLFLOW_IMAGE_DIRECTORY } from './mlflow-server';
import { PlatformCluster } from './platform-cluster';
import { PlatformManifest } from './platform-manifest';
import { PodIdentityRole } from './pod-identity-role';
import { ScheduledJobAlarm } from './scheduled-job-alarm';
import { TeamNamespace } from './team-namespace';

/** CloudWatch namespace of the batch jobs' metrics; the jobs' roles may publish to it alone. */
export const BATCH_METRIC_NAMESPACE = 'MLOpsPlatform/Batch';

/** Metric each complete run publishes once, with value 1, after its `_SUCCESS` marker. */
export const BATCH_SUCCEEDED_METRIC = 'Succeeded';

/** Properties of a {@link BatchInference}. */
export interface BatchInferenceProps {
  /** Cluster the job runs on. */
  readonly cluster: PlatformCluster;
  /** Namespace of the model's team; the job is applied after it. */
  readonly namespace: TeamNamespace;
  /** GPU node pools, applied before the job. @default - none */
  readonly gpuNodePools?: GpuNodePools;
  /** Model name; the job and its service account are `<model>-batch`. */
  readonly model: string;
  /** The model's scoring image (its first version's), with the model baked in. */
  readonly modelImage: string;
  /** Name of the artifact bucket the results go to. */
  readonly bucketName: string;
  /** Key prefix of the model's results in the artifact bucket, `predictions/<model>/`. */
  readonly predictionsPrefix: string;
  /** Policy letting the job list, write and delete under `predictionsPrefix`, and nothing else. */
  readonly predictionsPolicy: iam.IManagedPolicy;
  /** Cron expression (5 fields) of the runs, at most once a day. */
  readonly schedule: string;
  /** IANA time zone of the schedule and of the run date. */
  readonly timeZone: string;
  /** Folder of input files the team owns, `s3://<bucket>/<prefix>/`. */
  readonly input: string;
  /** KMS key the input files are encrypted with. @default - S3-managed keys, or a key whose policy lets the role in */
  readonly inputKmsKeyArn?: string;
  /** Format of the input files. */
  readonly format: BatchInputFormat;
  /** Longest a run may take, its retries included, in minutes. */
  readonly timeoutMinutes: number;
  /** Times a failed run starts again in a new pod. */
  readonly retries: number;
  /** CPU and memory of each of the job's containers. */
  readonly resources: ModelResources;
  /** GPUs of the predict step and their pool. @default - a CPU model */
  readonly gpu?: { readonly pool: string; readonly count: number };
  /** Size of the pod's scratch volume, in GiB. */
  readonly workVolumeGiB: number;
  /** Hours without a complete run after which the alarm fires (at most 168). */
  readonly alarmWindowHours: number;
  /** Topic the alarm notifies. */
  readonly alarmTopic: sns.ITopic;
  /** Name of the alarm, e.g. `mlops-prod-fraud-scorer-batch`. */
  readonly alarmName: string;
  /** Environment the job belongs to, a dimension of its metrics, e.g. `mlops-prod`. */
  readonly environment: string;
}

/**
 * A model's batch inference job ({@link BatchInferenceCronJob}) with what it needs outside the
 * cluster: a Pod Identity role that may read the team's input folder, write the model's own
 * results prefix and publish the job's metric, nothing more; the platform image its fetch and
 * upload steps run; and an alarm to the environment's topic when no run has completed for longer
 * than the schedule allows, which a failed, a missed and a stuck run all come to.
 */
export class BatchInference extends Construct {
  /** The role of the job's service account. */
  public readonly role: iam.Role;
  /** Fires when no run has completed within `alarmWindowHours`. */
  public readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: BatchInferenceProps) {
    super(scope, id);
    const name = `${props.model}-batch`;
    const team = props.namespace.team;
    const { region } = Stack.of(this);

    const identity = new PodIdentityRole(this, 'Role', {
      cluster: props.cluster.cluster,
      namespace: team,
      serviceAccount: name,
      description: `Batch inference of model ${props.model} of team ${team}: reads its input folder, writes its predictions`,
    });
    this.role = identity.role;
    this.role.addManagedPolicy(props.predictionsPolicy);

    identity.grantFolderRead(props.input, props.inputKmsKeyArn);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': BATCH_METRIC_NAMESPACE } },
      }),
    );
    acknowledgeWildcardResource(
      identity,
      '*',
      `cloudwatch:PutMetricData has no resource-level permissions; the role may publish to the ${BATCH_METRIC_NAMESPACE} namespace only.`,
    );

    // The MLflow image carries the job's commands; the same folder gives the same asset as the
    // MLflow stack's, built and pushed once.
    const platformImage = new ecrAssets.DockerImageAsset(this, 'PlatformImage', {
      directory: MLFLOW_IMAGE_DIRECTORY,
      platform: ecrAssets.Platform.LINUX_AMD64,
    });

    const dimensions = { Environment: props.environment, Model: props.model };
    const chart = new cdk8s.Chart(new cdk8s.App(), name, { disableResourceNameHashes: true });
    new BatchInferenceCronJob(chart, 'Job', {
      name,
      namespace: team,
      labels: {
        'app.kubernetes.io/name': name,
        'app.kubernetes.io/part-of': team,
        'app.kubernetes.io/component': 'batch-inference',
        [MODEL_LABEL]: props.model,
      },
      schedule: props.schedule,
      timeZone: props.timeZone,
      startingDeadlineMinutes: BATCH_STARTING_DEADLINE_MINUTES,
      timeoutMinutes: props.timeoutMinutes,
      retries: props.retries,
      platformImage: platformImage.imageUri,
      modelImage: props.modelImage,
      input: props.input,
      format: props.format,
      output: `s3://${props.bucketName}/${props.predictionsPrefix}`,
      region,
      metricNamespace: BATCH_METRIC_NAMESPACE,
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
        `${props.alarmName}: no batch inference run of model ${props.model} completed in ${props.alarmWindowHours} hours ` +
        `(schedule ${props.schedule} ${props.timeZone}): a run failed, was missed or is stuck; see docs/batch-inference.md.`,
      metricNamespace: BATCH_METRIC_NAMESPACE,
      metricName: BATCH_SUCCEEDED_METRIC,
      dimensions,
      windowHours: props.alarmWindowHours,
      topic: props.alarmTopic,
    });
  }
}
