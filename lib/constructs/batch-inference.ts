import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { BatchInferenceCronJob, BatchInputFormat } from '../../charts/lib/batch-inference-cron-job';
import { ScheduledJobGpu } from '../../charts/lib/scheduled-job';
import { GpuNodePools } from './gpu-node-pools';
import { PodIdentityRole } from './pod-identity-role';
import { ScheduledModelJob, ScheduledModelJobProps } from './scheduled-model-job';

/** Properties of a {@link BatchInference}. */
export interface BatchInferenceProps extends ScheduledModelJobProps {
  /** GPU node pools, applied before the job. @default - none */
  readonly gpuNodePools?: GpuNodePools;
  /** The model's scoring image (its first version's), with the model baked in. */
  readonly modelImage: string;
  /** Name of the artifact bucket the results go to. */
  readonly bucketName: string;
  /** Key prefix of the model's results in the artifact bucket, `predictions/<model>/`. */
  readonly predictionsPrefix: string;
  /** Policy letting the job list, write and delete under `predictionsPrefix`, and nothing else. */
  readonly predictionsPolicy: iam.IManagedPolicy;
  /** Folder of input files the team owns, `s3://<bucket>/<prefix>/`. */
  readonly input: string;
  /** KMS key the input files are encrypted with. @default - S3-managed keys, or a key whose policy lets the role in */
  readonly inputKmsKeyArn?: string;
  /** Format of the input files. */
  readonly format: BatchInputFormat;
  /** GPUs of the predict step and their pool. @default - a CPU model */
  readonly gpu?: ScheduledJobGpu;
  /** Name of the missed-run alarm, e.g. `mlops-prod-fraud-scorer-batch`. */
  readonly alarmName: string;
}

/**
 * A model's batch inference job ({@link BatchInferenceCronJob}) with what it needs outside the
 * cluster: a Pod Identity role that may read the team's input folder, write the model's own
 * results prefix and publish the job's metric in the model's own namespace, nothing more; the platform image its fetch and
 * upload steps run; and an alarm to the environment's topic when no run has completed for longer
 * than the schedule allows, which a failed, a missed and a stuck run all come to.
 */
export class BatchInference extends ScheduledModelJob {
  /** The role of the job's service account. */
  public readonly role: iam.Role;
  /** Fires when no run has completed within `alarmWindowHours`. */
  public readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: BatchInferenceProps) {
    super(scope, id, props, { kind: 'Batch', suffix: 'batch', component: 'batch-inference' });

    const identity = new PodIdentityRole(this, 'Role', {
      cluster: props.cluster.cluster,
      namespace: this.team,
      serviceAccount: this.jobName,
      description: `Batch inference of model ${props.model} of team ${this.team}: reads its input folder, writes its predictions`,
    });
    this.role = identity.role;
    this.role.addManagedPolicy(props.predictionsPolicy);
    identity.grantFolderRead(props.input, props.inputKmsKeyArn);
    identity.grantMetricPublishing(this.metricNamespace);

    // The platform image carries the fetch and upload steps.
    const platformImage = this.platformImage();
    const chart = this.jobChart();
    new BatchInferenceCronJob(chart, 'Job', {
      ...this.chartProps(platformImage),
      modelImage: props.modelImage,
      input: props.input,
      format: props.format,
      output: `s3://${props.bucketName}/${props.predictionsPrefix}`,
      gpu: props.gpu,
    });
    this.applyChart(chart, identity, props.gpuNodePools);

    this.alarm = this.missedRunAlarm(
      props.alarmName,
      `${props.alarmName}: no batch inference run of model ${props.model} completed in ${props.alarmWindowHours} hours ` +
        `(schedule ${props.schedule} ${props.timeZone}): a run failed, was missed or is stuck; see docs/batch-inference.md.`,
    );
  }
}
