import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { BATCH_SCRIPT_PATH } from './batch-inference-cron-job';
import { PodIdentityServiceAccount } from './http-workload';
import { mlflowCredentialsInit } from './mlflow-credentials-init';
import { ModelResources } from './model-version-deployment';
import { envVars, jobStepResources, metricDimensionsValue, ScheduledJobGpu, ScheduledJobRuns, scheduledJobSpec } from './scheduled-job';
import { restrictedContainerSecurityContext, scratchVolume } from './workload-hardening';

/** Name of the container that runs the team's training code. */
export const TRAIN_CONTAINER = 'train';

/** Name of the container that runs the promotion gate (images/mlflow/promotion.py). */
export const PROMOTE_CONTAINER = 'promote';

/** Name of the container that publishes the metric the missed-run alarm watches, after a complete run. */
export const REPORT_CONTAINER = 'report';

/** Properties of a {@link TrainingCronJob}. */
export interface TrainingCronJobProps extends ScheduledJobRuns {
  /** Name of the CronJob and of its service account, `<model>-training`. */
  readonly name: string;
  /** The team's namespace. */
  readonly namespace: string;
  /** Labels of every object, the job's pods included. */
  readonly labels: Record<string, string>;
  /** The MLflow image (images/mlflow): the credentials step, the promotion gate and the metric. */
  readonly platformImage: string;
  /** The team's training image. */
  readonly trainingImage: string;
  /** Command of the training step, the program first. */
  readonly command: readonly string[];
  /** ARN of the team's MLflow login secret, which the job's role may read. */
  readonly mlflowSecretArn: string;
  /** MLflow experiment the training runs log to, `<team>/...`. */
  readonly experiment: string;
  /** MLflow registered model the training registers versions of. */
  readonly registeredModel: string;
  /** Metric of the versions' runs the gate compares. */
  readonly metric: string;
  /** `max` when a higher metric is better, `min` when lower is. */
  readonly direction: 'max' | 'min';
  /** Least improvement, in the metric's units, that moves `champion`. */
  readonly minImprovement: number;
  /** Experiment the gate records its decisions in, `<team>/promotions`: only its creator may write runs to an experiment. */
  readonly promotionExperiment: string;
  /** Region of the secret and of CloudWatch. */
  readonly region: string;
  /** CloudWatch namespace of the job's metric. */
  readonly metricNamespace: string;
  /** Dimensions of the job's metric, e.g. the environment and the model. */
  readonly metricDimensions: Record<string, string>;
  /** CPU and memory of the training step. */
  readonly resources: ModelResources;
  /** GPUs of the training step and their pool. @default - the general CPU pool */
  readonly gpu?: ScheduledJobGpu;
  /** Size of the scratch volume at /tmp, in GiB. */
  readonly workVolumeGiB: number;
}

/**
 * A model's training: a CronJob whose pod runs four steps in turn. The init container
 * `mlflow-credentials` writes the team user's MLflow login into an in-memory HOME; the init
 * container `train` runs the team's image with that HOME, MLFLOW_EXPERIMENT_NAME and
 * MLFLOW_REGISTERED_MODEL_NAME, and must register a new version with alias `challenger`; the init
 * container `promote` runs the platform's promotion gate, which moves `champion` to the challenger
 * only when it is better by `minImprovement`; the container `report` then publishes a `Succeeded`
 * metric. A step that fails stops the pod, so the metric means a complete run.
 *
 * The team's code and the gate run without AWS credentials: only the credentials and report steps
 * need the role. Runs never overlap (`Forbid`), start at most `startingDeadlineMinutes` late or
 * count as missed, and fail after `timeoutMinutes` whatever their retries.
 */
export class TrainingCronJob extends Construct {
  constructor(scope: Construct, id: string, props: TrainingCronJobProps) {
    super(scope, id);
    const { name, namespace, labels } = props;
    const metadata = { name, namespace, labels };
    const scratch = scratchVolume(`${props.workVolumeGiB}Gi`);
    const credentials = mlflowCredentialsInit({ image: props.platformImage, secretArn: props.mlflowSecretArn, region: props.region });
    const platformResources: k8s.ResourceRequirements = {
      requests: { cpu: k8s.Quantity.fromString('100m'), memory: k8s.Quantity.fromString('512Mi') },
      limits: { cpu: k8s.Quantity.fromString('1'), memory: k8s.Quantity.fromString('512Mi') },
    };
    const mlflowStep = { securityContext: restrictedContainerSecurityContext(), volumeMounts: [credentials.mount, scratch.mount] };

    new PodIdentityServiceAccount(this, 'ServiceAccount', metadata);

    new k8s.KubeCronJob(this, 'CronJob', {
      metadata,
      spec: scheduledJobSpec({
        serviceAccountName: name,
        labels,
        schedule: props.schedule,
        timeZone: props.timeZone,
        startingDeadlineMinutes: props.startingDeadlineMinutes,
        timeoutMinutes: props.timeoutMinutes,
        retries: props.retries,
        gpu: props.gpu,
        credentialFreeContainers: [TRAIN_CONTAINER, PROMOTE_CONTAINER],
        initContainers: [
          credentials.initContainer,
          {
            name: TRAIN_CONTAINER,
            image: props.trainingImage,
            command: [...props.command],
            env: [
              ...credentials.env,
              ...envVars({
                MLFLOW_EXPERIMENT_NAME: props.experiment,
                MLFLOW_REGISTERED_MODEL_NAME: props.registeredModel,
                PYTHONDONTWRITEBYTECODE: '1',
              }),
            ],
            resources: jobStepResources(props.resources, props.workVolumeGiB, props.gpu),
            ...mlflowStep,
          },
          {
            name: PROMOTE_CONTAINER,
            image: props.platformImage,
            args: ['promote'],
            env: [
              ...credentials.env,
              ...envVars({
                PROMOTION_REGISTERED_MODEL: props.registeredModel,
                PROMOTION_METRIC: props.metric,
                PROMOTION_DIRECTION: props.direction,
                PROMOTION_MIN_IMPROVEMENT: String(props.minImprovement),
                PROMOTION_EXPERIMENT: props.promotionExperiment,
              }),
            ],
            resources: platformResources,
            ...mlflowStep,
          },
        ],
        containers: [
          {
            name: REPORT_CONTAINER,
            image: props.platformImage,
            command: ['python', BATCH_SCRIPT_PATH, 'succeeded'],
            env: envVars({
              AWS_REGION: props.region,
              BATCH_METRIC_NAMESPACE: props.metricNamespace,
              BATCH_METRIC_DIMENSIONS: metricDimensionsValue(props.metricDimensions),
            }),
            resources: platformResources,
            securityContext: restrictedContainerSecurityContext(),
            volumeMounts: [scratch.mount],
          },
        ],
        volumes: [credentials.volume, scratch.volume],
      }),
    });
  }
}
