import { Construct } from 'constructs';
import { mlflowCredentialsInit } from './mlflow-credentials-init';
import { envVars, jobStepResources, metricDimensionsValue, ScheduledJob, ScheduledJobPod, ScheduledJobProps } from './scheduled-job';
import { restrictedContainerSecurityContext, SCRATCH_PATH, scratchVolume } from './workload-hardening';

/** Where the drift report image (images/drift-report) keeps the drift report command. */
export const DRIFT_SCRIPT_PATH = '/opt/drift-report/drift.py';

/** Name of the container that compares the data and reports the drift. */
export const DRIFT_REPORT_CONTAINER = 'report';

/** Formats the compared files may have. */
export type DriftInputFormat = 'csv' | 'parquet' | 'json';

/** A reference dataset logged as an artifact of the run that produced the version an alias of a registered model points to. */
export interface DriftModelArtifact {
  /** Name of the MLflow registered model, e.g. `fraud-scorer`. */
  readonly registeredModel: string;
  /** Alias whose version's run holds the artifact, e.g. `champion`; read at each run. */
  readonly alias: string;
  /** Path of a file or folder among that run's artifacts, e.g. `reference/train.parquet`. */
  readonly artifactPath: string;
}

/** Where the reference data is: an S3 folder, `s3://<bucket>/<prefix>/`, or an artifact of a registered model's run. */
export type DriftReference = string | DriftModelArtifact;

/** Properties of a {@link DriftReportCronJob}. */
export interface DriftReportCronJobProps extends ScheduledJobProps {
  /** The drift report image (images/drift-report), which has Evidently and the drift command. */
  readonly reportImage: string;
  /** The reference data: an S3 folder, or an artifact read through the MLflow server as the team's user. */
  readonly reference: DriftReference;
  /** Folder of the current data, `s3://<bucket>/<prefix>/`. */
  readonly current: string;
  /** Format of the files of both folders. */
  readonly format: DriftInputFormat;
  /** Share of drifted columns (0-1) above which the run's verdict is drift. */
  readonly threshold: number;
  /** Model the report is of; names the MLflow run. */
  readonly model: string;
  /** ARN of the team's MLflow login secret, which the job's role may read. */
  readonly mlflowSecretArn: string;
  /** MLflow experiment the reports log to, `<team>/drift`. */
  readonly experiment: string;
}

/**
 * A model's drift report: a CronJob whose pod runs two steps in turn. The init container
 * `mlflow-credentials` (MLflow image) writes the team user's MLflow login into an in-memory HOME; the
 * container `report` (drift report image, `drift.py report`) reads the reference (an S3 folder, or a
 * registered model's run artifact downloaded through the MLflow server as the team's user) and the
 * current folder, compares them with Evidently, logs the HTML report and the metrics to the team's
 * experiment, then publishes `DriftShare` and `Succeeded`. Both steps need the job's role (the
 * secret, the folders, CloudWatch), so none is credential-free. Runs never overlap (`Forbid`),
 * start at most `startingDeadlineMinutes` late or count as missed, and fail after `timeoutMinutes`
 * whatever their retries.
 */
export class DriftReportCronJob extends ScheduledJob {
  constructor(scope: Construct, id: string, props: DriftReportCronJobProps) {
    super(scope, id, props, driftReportPod(props));
  }
}

/** The job's two steps (`mlflow-credentials`, `report`); both need the job's role. */
function driftReportPod(props: DriftReportCronJobProps): ScheduledJobPod {
  const scratch = scratchVolume(`${props.workVolumeGiB}Gi`);
  const credentials = mlflowCredentialsInit({ image: props.platformImage, secretArn: props.mlflowSecretArn, region: props.region });
  return {
    credentialFreeContainers: [],
    initContainers: [credentials.initContainer],
    containers: [
      {
        name: DRIFT_REPORT_CONTAINER,
        image: props.reportImage,
        command: ['python', DRIFT_SCRIPT_PATH, 'report'],
        env: [
          ...credentials.env,
          ...envVars({
            AWS_REGION: props.region,
            ...referenceEnv(props.reference),
            DRIFT_CURRENT: props.current,
            DRIFT_FORMAT: props.format,
            DRIFT_THRESHOLD: String(props.threshold),
            DRIFT_MODEL: props.model,
            DRIFT_EXPERIMENT: props.experiment,
            DRIFT_WORK_DIR: `${SCRATCH_PATH}/drift`,
            DRIFT_METRIC_NAMESPACE: props.metricNamespace,
            DRIFT_METRIC_DIMENSIONS: metricDimensionsValue(props.metricDimensions),
            // Evidently's usage telemetry is off: the job sends nothing outside the platform.
            DO_NOT_TRACK: '1',
          }),
        ],
        resources: jobStepResources(props.resources, props.workVolumeGiB),
        securityContext: restrictedContainerSecurityContext(),
        volumeMounts: [credentials.mount, scratch.mount],
      },
    ],
    volumes: [credentials.volume, scratch.volume],
  };
}

/** The report step's settings naming the reference: `DRIFT_REFERENCE`, or the registered model, alias and artifact path. */
function referenceEnv(reference: DriftReference): Record<string, string> {
  return typeof reference === 'string'
    ? { DRIFT_REFERENCE: reference }
    : { DRIFT_REFERENCE_MODEL: reference.registeredModel, DRIFT_REFERENCE_ALIAS: reference.alias, DRIFT_REFERENCE_ARTIFACT: reference.artifactPath };
}
