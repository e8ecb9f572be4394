import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { MODEL_PATH } from './model-version-deployment';
import { envVars, jobStepResources, metricDimensionsValue, ScheduledJob, ScheduledJobGpu, ScheduledJobPod, ScheduledJobProps } from './scheduled-job';
import { restrictedContainerSecurityContext, SCRATCH_PATH, scratchVolume } from './workload-hardening';

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

/** Properties of a {@link BatchInferenceCronJob}. */
export interface BatchInferenceCronJobProps extends ScheduledJobProps {
  /** The model's scoring image (the first version's), with the model at {@link MODEL_PATH}. */
  readonly modelImage: string;
  /** Folder of input files, `s3://<bucket>/<prefix>/`. */
  readonly input: string;
  /** Format of the input files. */
  readonly format: BatchInputFormat;
  /** Folder the results go to, `s3://<artifact bucket>/predictions/<model>/`; each run writes `<date>/` under it. */
  readonly output: string;
  /** GPUs of the predict step and their pool. @default - a CPU model on the general pool */
  readonly gpu?: ScheduledJobGpu;
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
export class BatchInferenceCronJob extends ScheduledJob {
  constructor(scope: Construct, id: string, props: BatchInferenceCronJobProps) {
    super(scope, id, props, batchInferencePod(props));
  }
}

/** The job's three steps (`fetch`, `predict`, `upload`), each with every container's resources, over one scratch volume. */
function batchInferencePod(props: BatchInferenceCronJobProps): ScheduledJobPod {
  const scratch = scratchVolume(`${props.workVolumeGiB}Gi`);
  const predictInput = PREDICT_INPUTS[props.format];
  const hardened = { securityContext: restrictedContainerSecurityContext(), volumeMounts: [scratch.mount] };
  const platformStep = (step: 'fetch' | 'upload', variables: Record<string, string>): k8s.Container => ({
    name: step,
    image: props.platformImage,
    command: ['python', BATCH_SCRIPT_PATH, step],
    env: envVars({ AWS_REGION: props.region, BATCH_WORK_DIR, ...variables }),
    resources: jobStepResources(props.resources, props.workVolumeGiB),
    ...hardened,
  });
  return {
    gpu: props.gpu,
    credentialFreeContainers: [PREDICT_CONTAINER],
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
        env: envVars({ HOME: SCRATCH_PATH, PYTHONDONTWRITEBYTECODE: '1' }),
        resources: jobStepResources(props.resources, props.workVolumeGiB, props.gpu),
        ...hardened,
      },
    ],
    containers: [
      platformStep('upload', {
        BATCH_OUTPUT: props.output,
        BATCH_PREDICTIONS: PREDICTIONS_FILE,
        BATCH_MODEL_IMAGE: props.modelImage,
        BATCH_METRIC_NAMESPACE: props.metricNamespace,
        BATCH_METRIC_DIMENSIONS: metricDimensionsValue(props.metricDimensions),
      }),
    ],
    volumes: [scratch.volume],
  };
}
