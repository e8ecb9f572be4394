import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { GENERAL_NODE_POOL } from '../../lib/config/platform-names';
import { GPU_RESOURCE, NODE_POOL_LABEL } from '../cluster-config-chart';
import { BATCH_SCRIPT_PATH } from './batch-inference-cron-job';
import { PodIdentityServiceAccount } from './http-workload';
import { mlflowCredentialsInit } from './mlflow-credentials-init';
import { ModelResources } from './model-version-deployment';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext, scratchVolume } from './workload-hardening';

/** Name of the container that runs the team's training code. */
export const TRAIN_CONTAINER = 'train';

/** Name of the container that runs the promotion gate (images/mlflow/promotion.py). */
export const PROMOTE_CONTAINER = 'promote';

/** Name of the container that publishes the metric the missed-run alarm watches, after a complete run. */
export const REPORT_CONTAINER = 'report';

/** Pod annotation the EKS Pod Identity webhook reads: containers it injects no credentials into. */
const SKIP_CREDENTIALS_ANNOTATION = 'eks.amazonaws.com/skip-containers';

/** Properties of a {@link TrainingCronJob}. */
export interface TrainingCronJobProps {
  /** Name of the CronJob and of its service account, `<model>-training`. */
  readonly name: string;
  /** The team's namespace. */
  readonly namespace: string;
  /** Labels of every object, the job's pods included. */
  readonly labels: Record<string, string>;
  /** Cron expression (5 fields) of the runs. */
  readonly schedule: string;
  /** IANA time zone the schedule is read in. */
  readonly timeZone: string;
  /** Minutes the controller may start a run late before it counts the run as missed. */
  readonly startingDeadlineMinutes: number;
  /** Longest a run may take, its retries included, in minutes. */
  readonly timeoutMinutes: number;
  /** Times a failed run starts again in a new pod. */
  readonly retries: number;
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
  readonly gpu?: { readonly pool: string; readonly count: number };
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
    const { name, namespace, labels, resources } = props;
    const metadata = { name, namespace, labels };
    const scratch = scratchVolume(`${props.workVolumeGiB}Gi`);
    const credentials = mlflowCredentialsInit({ image: props.platformImage, secretArn: props.mlflowSecretArn, region: props.region });
    const gpus: Record<string, k8s.Quantity> = props.gpu ? { [GPU_RESOURCE]: k8s.Quantity.fromNumber(props.gpu.count) } : {};
    const env = (variables: Record<string, string>): k8s.EnvVar[] => Object.entries(variables).map(([key, value]) => ({ name: key, value }));
    const platformResources: k8s.ResourceRequirements = {
      requests: { cpu: k8s.Quantity.fromString('100m'), memory: k8s.Quantity.fromString('512Mi') },
      limits: { cpu: k8s.Quantity.fromString('1'), memory: k8s.Quantity.fromString('512Mi') },
    };
    const mlflowStep = { securityContext: restrictedContainerSecurityContext(), volumeMounts: [credentials.mount, scratch.mount] };

    new PodIdentityServiceAccount(this, 'ServiceAccount', metadata);

    new k8s.KubeCronJob(this, 'CronJob', {
      metadata,
      spec: {
        schedule: props.schedule,
        timeZone: props.timeZone,
        // A slow run must not overlap the next one, and runs missed while the controller could not
        // start them are skipped rather than piled up: the missed-run alarm reports them.
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: props.startingDeadlineMinutes * 60,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          metadata: { labels },
          spec: {
            activeDeadlineSeconds: props.timeoutMinutes * 60,
            backoffLimit: props.retries,
            template: {
              metadata: { labels, annotations: { [SKIP_CREDENTIALS_ANNOTATION]: `${TRAIN_CONTAINER},${PROMOTE_CONTAINER}` } },
              spec: {
                serviceAccountName: name,
                automountServiceAccountToken: false,
                // Each retry (after a spot interruption, say) is a new pod with empty volumes.
                restartPolicy: 'Never',
                securityContext: restrictedPodSecurityContext(),
                nodeSelector: { [NODE_POOL_LABEL]: props.gpu?.pool ?? GENERAL_NODE_POOL },
                tolerations: props.gpu ? [{ key: GPU_RESOURCE, operator: 'Exists', effect: 'NoSchedule' }] : undefined,
                initContainers: [
                  credentials.initContainer,
                  {
                    name: TRAIN_CONTAINER,
                    image: props.trainingImage,
                    command: [...props.command],
                    env: [
                      ...credentials.env,
                      ...env({
                        MLFLOW_EXPERIMENT_NAME: props.experiment,
                        MLFLOW_REGISTERED_MODEL_NAME: props.registeredModel,
                        PYTHONDONTWRITEBYTECODE: '1',
                      }),
                    ],
                    resources: {
                      requests: {
                        'cpu': k8s.Quantity.fromString(`${resources.cpuRequestMillicores}m`),
                        'memory': k8s.Quantity.fromString(`${resources.memoryRequestMiB}Mi`),
                        // The scratch volume is node disk: schedule the pod where it fits.
                        'ephemeral-storage': k8s.Quantity.fromString(`${props.workVolumeGiB}Gi`),
                        ...gpus,
                      },
                      limits: {
                        cpu: k8s.Quantity.fromString(`${resources.cpuLimitMillicores}m`),
                        memory: k8s.Quantity.fromString(`${resources.memoryLimitMiB}Mi`),
                        ...gpus,
                      },
                    },
                    ...mlflowStep,
                  },
                  {
                    name: PROMOTE_CONTAINER,
                    image: props.platformImage,
                    args: ['promote'],
                    env: [
                      ...credentials.env,
                      ...env({
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
                    env: env({
                      AWS_REGION: props.region,
                      BATCH_METRIC_NAMESPACE: props.metricNamespace,
                      BATCH_METRIC_DIMENSIONS: Object.entries(props.metricDimensions).map(([key, value]) => `${key}=${value}`).join(','),
                    }),
                    resources: platformResources,
                    securityContext: restrictedContainerSecurityContext(),
                    volumeMounts: [scratch.mount],
                  },
                ],
                volumes: [credentials.volume, scratch.volume],
              },
            },
          },
        },
      },
    });
  }
}
