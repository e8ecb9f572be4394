import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { GENERAL_NODE_POOL } from '../../lib/config/platform-names';
import { GPU_RESOURCE, NODE_POOL_LABEL } from '../cluster-config-chart';
import { PodIdentityServiceAccount } from './http-workload';
import { MODEL_PATH, ModelResources } from './model-version-deployment';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext, SCRATCH_PATH, scratchVolume } from './workload-hardening';

/** Where the platform image (images/mlflow) keeps the batch job's commands. */
export const BATCH_SCRIPT_PATH = '/opt/mlflow-platform/batch.py';

/** Folder of the scratch volume the three steps hand the input and the predictions over in. */
export const BATCH_WORK_DIR = `${SCRATCH_PATH}/batch`;

/** Formats a team's input files may have. */
export type BatchInputFormat = 'csv' | 'parquet' | 'json';

/**
 * What `mlflow models predict` reads, per input format: CSV as it is, the way the scoring server
 * reads a text/csv request; JSON Lines and Parquet as one MLflow scoring JSON document.
 */
export const PREDICT_INPUTS: Record<BatchInputFormat, { readonly file: string; readonly contentType: 'csv' | 'json' }> = {
  csv: { file: `${BATCH_WORK_DIR}/input.csv`, contentType: 'csv' },
  json: { file: `${BATCH_WORK_DIR}/input.json`, contentType: 'json' },
  parquet: { file: `${BATCH_WORK_DIR}/input.json`, contentType: 'json' },
};

/** Where `mlflow models predict` writes its answer, `{"predictions": [...]}`, for the upload step. */
export const PREDICTIONS_FILE = `${BATCH_WORK_DIR}/predictions.json`;

/** Name of the container that runs the model's own code; it alone gets no AWS credentials. */
export const PREDICT_CONTAINER = 'predict';

/** Pod annotation the EKS Pod Identity webhook reads: containers it injects no credentials into. */
const SKIP_CREDENTIALS_ANNOTATION = 'eks.amazonaws.com/skip-containers';

/** Properties of a {@link BatchInferenceCronJob}. */
export interface BatchInferenceCronJobProps {
  /** Name of the CronJob and of its service account, `<model>-batch`. */
  readonly name: string;
  /** The team's namespace. */
  readonly namespace: string;
  /** Labels of every object, the job's pods included. */
  readonly labels: Record<string, string>;
  /** Cron expression (5 fields) of the runs. */
  readonly schedule: string;
  /** IANA time zone the schedule and the run date are read in. */
  readonly timeZone: string;
  /** Minutes the controller may start a run late before it counts the run as missed. */
  readonly startingDeadlineMinutes: number;
  /** Longest a run may take, its retries included, in minutes. */
  readonly timeoutMinutes: number;
  /** Times a failed run starts again in a new pod. */
  readonly retries: number;
  /** Image of the platform's job commands (images/mlflow), which fetches the input and uploads the results. */
  readonly platformImage: string;
  /** The model's scoring image (the first version's), with the model at {@link MODEL_PATH}. */
  readonly modelImage: string;
  /** Folder of input files, `s3://<bucket>/<prefix>/`. */
  readonly input: string;
  /** Format of the input files. */
  readonly format: BatchInputFormat;
  /** Folder the results go to, `s3://<artifact bucket>/predictions/<model>/`; each run writes `<date>/` under it. */
  readonly output: string;
  /** Region of the artifact bucket and of CloudWatch. */
  readonly region: string;
  /** CloudWatch namespace of the job's metrics. */
  readonly metricNamespace: string;
  /** Dimensions of the job's metrics, e.g. the environment and the model. */
  readonly metricDimensions: Record<string, string>;
  /** CPU and memory of each container. */
  readonly resources: ModelResources;
  /** GPUs of the predict step and their pool. @default - a CPU model on the general pool */
  readonly gpu?: { readonly pool: string; readonly count: number };
  /** Size of the scratch volume holding the input and the predictions, in GiB. */
  readonly workVolumeGiB: number;
}

/**
 * A model's batch inference: a CronJob whose pod runs three steps in turn over one scratch volume.
 * The init container `fetch` (platform image) downloads every file of the input folder and joins
 * them into one input; the init container `predict` runs `mlflow models predict` in the model's own
 * image against the model baked into it; the container `upload` (platform image) writes the
 * predictions to `<output><date>/`, then the `_SUCCESS` marker, then a `Succeeded` metric. A step
 * that fails stops the pod, so no marker is ever written for an incomplete run.
 *
 * The model's own code runs without AWS credentials: the Pod Identity webhook skips its container.
 * Runs never overlap (`Forbid`), start at most `startingDeadlineMinutes` late or count as missed,
 * and fail after `timeoutMinutes` whatever their retries; the missed-run alarm sees both.
 */
export class BatchInferenceCronJob extends Construct {
  constructor(scope: Construct, id: string, props: BatchInferenceCronJobProps) {
    super(scope, id);
    const { name, namespace, labels, resources } = props;
    const metadata = { name, namespace, labels };
    const scratch = scratchVolume(`${props.workVolumeGiB}Gi`);
    const predictInput = PREDICT_INPUTS[props.format];
    const gpus: Record<string, k8s.Quantity> = props.gpu ? { [GPU_RESOURCE]: k8s.Quantity.fromNumber(props.gpu.count) } : {};
    const containerResources = (extra: Record<string, k8s.Quantity> = {}): k8s.ResourceRequirements => ({
      requests: {
        'cpu': k8s.Quantity.fromString(`${resources.cpuRequestMillicores}m`),
        'memory': k8s.Quantity.fromString(`${resources.memoryRequestMiB}Mi`),
        // The scratch volume is node disk: schedule the pod where it fits.
        'ephemeral-storage': k8s.Quantity.fromString(`${props.workVolumeGiB}Gi`),
        ...extra,
      },
      limits: {
        cpu: k8s.Quantity.fromString(`${resources.cpuLimitMillicores}m`),
        memory: k8s.Quantity.fromString(`${resources.memoryLimitMiB}Mi`),
        ...extra,
      },
    });
    const env = (variables: Record<string, string>): k8s.EnvVar[] => Object.entries(variables).map(([key, value]) => ({ name: key, value }));
    const hardened = { securityContext: restrictedContainerSecurityContext(), volumeMounts: [scratch.mount] };
    const platformStep = (step: 'fetch' | 'upload', variables: Record<string, string>): k8s.Container => ({
      name: step,
      image: props.platformImage,
      command: ['python', BATCH_SCRIPT_PATH, step],
      env: env({ AWS_REGION: props.region, BATCH_WORK_DIR, ...variables }),
      resources: containerResources(),
      ...hardened,
    });

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
              metadata: { labels, annotations: { [SKIP_CREDENTIALS_ANNOTATION]: PREDICT_CONTAINER } },
              spec: {
                serviceAccountName: name,
                automountServiceAccountToken: false,
                // Each retry is a new pod with an empty scratch volume, never a half-written one.
                restartPolicy: 'Never',
                securityContext: restrictedPodSecurityContext(),
                nodeSelector: { [NODE_POOL_LABEL]: props.gpu?.pool ?? GENERAL_NODE_POOL },
                tolerations: props.gpu ? [{ key: GPU_RESOURCE, operator: 'Exists', effect: 'NoSchedule' }] : undefined,
                initContainers: [
                  platformStep('fetch', {
                    BATCH_INPUT: props.input,
                    BATCH_FORMAT: props.format,
                    BATCH_TIME_ZONE: props.timeZone,
                    BATCH_PREDICT_INPUT: predictInput.file,
                  }),
                  {
                    name: PREDICT_CONTAINER,
                    image: props.modelImage,
                    // The Python of the image, which has the model's dependencies and the MLflow that built it.
                    command: ['python', '-m', 'mlflow', 'models', 'predict'],
                    args: [
                      '--model-uri', MODEL_PATH,
                      '--input-path', predictInput.file,
                      '--output-path', PREDICTIONS_FILE,
                      '--content-type', predictInput.contentType,
                      '--env-manager', 'local',
                    ],
                    env: env({ HOME: SCRATCH_PATH, PYTHONDONTWRITEBYTECODE: '1' }),
                    resources: containerResources(gpus),
                    ...hardened,
                  },
                ],
                containers: [
                  platformStep('upload', {
                    BATCH_OUTPUT: props.output,
                    BATCH_PREDICTIONS: PREDICTIONS_FILE,
                    BATCH_MODEL_IMAGE: props.modelImage,
                    BATCH_METRIC_NAMESPACE: props.metricNamespace,
                    BATCH_METRIC_DIMENSIONS: Object.entries(props.metricDimensions).map(([key, value]) => `${key}=${value}`).join(','),
                  }),
                ],
                volumes: [scratch.volume],
              },
            },
          },
        },
      },
    });
  }
}
