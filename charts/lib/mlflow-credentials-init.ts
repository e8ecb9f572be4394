import { k8s } from 'cdk8s-plus-27';
import { MLFLOW_NAMESPACE } from '../../lib/config/platform-names';
import { MLFLOW_CREDENTIALS_REQUESTS } from '../../lib/config/scheduled-job-sizing';
import { NON_ROOT_ID, restrictedContainerSecurityContext } from './workload-hardening';

/** The tracking server inside the cluster: its Service on port 80, a host name its `--allowed-hosts` admits. */
export const MLFLOW_IN_CLUSTER_URL = `http://mlflow.${MLFLOW_NAMESPACE}.svc.cluster.local`;

/** HOME of a job's container: the volume the init step writes `.mlflow/credentials` into. */
export const MLFLOW_CLIENT_HOME = '/home/mlflow';

/** Name of the init container, and of the volume it shares with the job's container. */
const NAME = 'mlflow-credentials';

/** Properties of {@link mlflowCredentialsInit}. */
export interface MlflowCredentialsInitProps {
  /** The MLflow image, whose entrypoint has the `write-credentials` command. */
  readonly image: string;
  /** ARN of the team's MLflow login secret; the pod's Pod Identity role must be allowed to read it. */
  readonly secretArn: string;
  /** AWS region of the secret. */
  readonly region: string;
  /** User and group of the init step; the job's container must run as the same user to read the 0600 file. @default NON_ROOT_ID */
  readonly runAs?: number;
}

/** What a pod adds to reach MLflow as its team's user without a Kubernetes Secret. */
export interface MlflowCredentialsInit {
  /** The init step that writes the team user's login into `$HOME/.mlflow/credentials`; add it to `initContainers`. */
  readonly initContainer: k8s.Container;
  /** The in-memory volume holding that HOME; add it to the pod's `volumes`. */
  readonly volume: k8s.Volume;
  /** Mounts the volume as HOME in the job's container. */
  readonly mount: k8s.VolumeMount;
  /** `HOME` and `MLFLOW_TRACKING_URI` for the job's container, which then needs no MLflow setting of its own. */
  readonly env: k8s.EnvVar[];
}

/**
 * The credentials init step of a team's job. The init container reads the team's secret through
 * the pod's Pod Identity role (a {@link TeamJobIdentity}) and writes the MLflow client's
 * credentials file into a memory-backed volume that the job's container, whatever its image, uses
 * as HOME; the MLflow client reads it from there (mlflow/utils/credentials.py). The password never
 * appears in a manifest, an environment variable or on disk. The job's container must run as
 * `runAs` (the pod's `restrictedPodSecurityContext(runAs)` does it for every container).
 */
export function mlflowCredentialsInit(props: MlflowCredentialsInitProps): MlflowCredentialsInit {
  const user = props.runAs ?? NON_ROOT_ID;
  const mount: k8s.VolumeMount = { name: NAME, mountPath: MLFLOW_CLIENT_HOME };
  return {
    initContainer: {
      name: NAME,
      image: props.image,
      args: ['write-credentials'],
      env: [
        { name: 'AWS_REGION', value: props.region },
        { name: 'AWS_DEFAULT_REGION', value: props.region },
        { name: 'MLFLOW_CREDENTIALS_SECRET_ARN', value: props.secretArn },
        { name: 'HOME', value: MLFLOW_CLIENT_HOME },
      ],
      resources: {
        requests: {
          cpu: k8s.Quantity.fromString(`${MLFLOW_CREDENTIALS_REQUESTS.cpuRequestMillicores}m`),
          memory: k8s.Quantity.fromString(`${MLFLOW_CREDENTIALS_REQUESTS.memoryRequestMiB}Mi`),
        },
        limits: { cpu: k8s.Quantity.fromString('500m'), memory: k8s.Quantity.fromString('256Mi') },
      },
      securityContext: { ...restrictedContainerSecurityContext(), runAsUser: user, runAsGroup: user },
      volumeMounts: [mount],
    },
    // In memory, so the password is never written to the node's disk; small, because it holds only
    // the credentials and what tools keep under HOME, and counts against the pod's memory.
    volume: { name: NAME, emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('64Mi') } },
    mount,
    env: [
      { name: 'HOME', value: MLFLOW_CLIENT_HOME },
      { name: 'MLFLOW_TRACKING_URI', value: MLFLOW_IN_CLUSTER_URL },
    ],
  };
}
