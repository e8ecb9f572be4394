import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { TRAINING_PLATFORM_STEP_REQUESTS } from '../../lib/config/scheduled-job-sizing';
import { BATCH_SCRIPT_PATH } from './batch-inference-cron-job';
import { mlflowCredentialsInit } from './mlflow-credentials-init';
import { envVars, jobStepResources, metricDimensionsValue, ScheduledJob, ScheduledJobGpu, ScheduledJobPod, ScheduledJobProps } from './scheduled-job';
import { restrictedContainerSecurityContext, scratchVolume } from './workload-hardening';

/** Name of the container that runs the team's training code. */
export const TRAIN_CONTAINER = 'train';

/** Name of the container that runs the promotion gate (images/mlflow/promotion.py). */
export const PROMOTE_CONTAINER = 'promote';

/** Name of the container that publishes the metric the missed-run alarm watches, after a complete run. */
export const REPORT_CONTAINER = 'report';

/** Variable that tells the training step its input folder, `s3://<bucket>/<prefix>/`. */
export const TRAINING_INPUT_VARIABLE = 'TRAINING_INPUT';

/** Properties of a {@link TrainingCronJob}. */
export interface TrainingCronJobProps extends ScheduledJobProps {
  /** The team's training image. */
  readonly trainingImage: string;
  /** Command of the training step, the program first. */
  readonly command: readonly string[];
  /** Folder of training data, `s3://<bucket>/<prefix>/`, the training step reads with the pod's role. @default - none: the step gets no AWS credentials */
  readonly input?: string;
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
  /** GPUs of the training step and their pool. @default - the general CPU pool */
  readonly gpu?: ScheduledJobGpu;
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
 * The gate runs without AWS credentials, and so does the team's code unless the job has an
 * `input`: then the `train` container gets the pod's role to read that folder, and TRAINING_INPUT
 * and the region to find it. Runs never overlap (`Forbid`), start at most `startingDeadlineMinutes` late or
 * count as missed, and fail after `timeoutMinutes` whatever their retries.
 */
export class TrainingCronJob extends ScheduledJob {
  constructor(scope: Construct, id: string, props: TrainingCronJobProps) {
    super(scope, id, props, trainingPod(props));
  }
}

/** The job's four steps (`mlflow-credentials`, `train`, `promote`, `report`). */
function trainingPod(props: TrainingCronJobProps): ScheduledJobPod {
  const scratch = scratchVolume(`${props.workVolumeGiB}Gi`);
  const credentials = mlflowCredentialsInit({ image: props.platformImage, secretArn: props.mlflowSecretArn, region: props.region });
  const platformResources: k8s.ResourceRequirements = {
    requests: {
      cpu: k8s.Quantity.fromString(`${TRAINING_PLATFORM_STEP_REQUESTS.cpuRequestMillicores}m`),
      memory: k8s.Quantity.fromString(`${TRAINING_PLATFORM_STEP_REQUESTS.memoryRequestMiB}Mi`),
    },
    limits: { cpu: k8s.Quantity.fromString('1'), memory: k8s.Quantity.fromString('512Mi') },
  };
  const mlflowStep = { securityContext: restrictedContainerSecurityContext(), volumeMounts: [credentials.mount, scratch.mount] };
  // With an input, the team's code needs the role to read it. The role then gives that code
  // nothing else it lacks: the team's MLflow login secret it may read is the login the code
  // already holds in its credentials file, and the metric namespace it may publish to is its own
  // model's, open already to the team's admins, who may run any pod as this service account.
  const inputEnv = props.input
    ? envVars({ [TRAINING_INPUT_VARIABLE]: props.input, AWS_REGION: props.region, AWS_DEFAULT_REGION: props.region })
    : [];
  return {
    gpu: props.gpu,
    credentialFreeContainers: props.input ? [PROMOTE_CONTAINER] : [TRAIN_CONTAINER, PROMOTE_CONTAINER],
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
          ...inputEnv,
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
  };
}
