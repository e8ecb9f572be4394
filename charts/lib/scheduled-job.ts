import { ApiObject, JsonPatch } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { GENERAL_NODE_POOL } from '../../lib/config/platform-names';
import { GPU_RESOURCE, NODE_POOL_LABEL } from '../cluster-config-chart';
import { PodIdentityServiceAccount } from './http-workload';
import { ModelResources } from './model-version-deployment';
import { restrictedPodSecurityContext } from './workload-hardening';

/**
 * The skeleton the platform's scheduled team jobs (batch inference, training, drift report) share:
 * a CronJob whose runs never overlap, start late by a bounded time or count as missed, fail after a
 * deadline whatever their retries, and run in one hardened pod per attempt on the general or a GPU
 * pool, as a service account of its own.
 */

/** Pod annotation the EKS Pod Identity webhook reads: containers it injects no credentials into. */
const SKIP_CREDENTIALS_ANNOTATION = 'eks.amazonaws.com/skip-containers';

/** GPUs of a job's heavy step and the pool they come from. */
export interface ScheduledJobGpu {
  /** Node pool of the GPUs. */
  readonly pool: string;
  /** GPUs the step requests. */
  readonly count: number;
}

/** When a scheduled job runs and how long and how often a run may try. */
export interface ScheduledJobRuns {
  /** Cron expression (5 fields) of the runs. */
  readonly schedule: string;
  /** IANA time zone the schedule (and a batch run's date) is read in. */
  readonly timeZone: string;
  /** Minutes the controller may start a run late before it counts the run as missed. */
  readonly startingDeadlineMinutes: number;
  /** Longest a run may take, its retries included, in minutes. */
  readonly timeoutMinutes: number;
  /** Times a failed run starts again in a new pod. */
  readonly retries: number;
}

/** What every scheduled job is given besides its own steps. */
export interface ScheduledJobProps extends ScheduledJobRuns {
  /** Name of the CronJob and of its service account, `<model>-<job>`. */
  readonly name: string;
  /** The team's namespace. */
  readonly namespace: string;
  /** Labels of every object, the job's pods included. */
  readonly labels: Record<string, string>;
  /** The MLflow image (images/mlflow), which runs the platform's steps of the job. */
  readonly platformImage: string;
  /** Region of the AWS services the job calls, CloudWatch among them. */
  readonly region: string;
  /** CloudWatch namespace of the job's metrics, the model's own. */
  readonly metricNamespace: string;
  /** Dimensions of the job's metrics, e.g. the environment and the model. */
  readonly metricDimensions: Record<string, string>;
  /** CPU and memory of the job's heavy step. */
  readonly resources: ModelResources;
  /** Size of the pod's scratch volume, in GiB. */
  readonly workVolumeGiB: number;
}

/** The pod of a scheduled job: its steps, volumes and pool. */
export interface ScheduledJobPod {
  /** GPUs of the job's heavy step; they decide the pod's pool. @default - the general CPU pool */
  readonly gpu?: ScheduledJobGpu;
  /** Containers that run without AWS credentials: the Pod Identity webhook skips them. */
  readonly credentialFreeContainers: readonly string[];
  /** Steps that run in turn before the last one; one that fails stops the pod. */
  readonly initContainers: k8s.Container[];
  /** The last step(s). */
  readonly containers: k8s.Container[];
  /** Volumes of the pod. */
  readonly volumes: k8s.Volume[];
}

/**
 * A scheduled team job: its service account, which Pod Identity binds to the job's role, and its
 * CronJob running `pod` as that account. Each job's construct extends it with its own steps.
 */
export class ScheduledJob extends Construct {
  constructor(scope: Construct, id: string, props: ScheduledJobProps, pod: ScheduledJobPod) {
    super(scope, id);
    const { name, namespace, labels } = props;
    const { gpu } = pod;
    const metadata = { name, namespace, labels };

    new PodIdentityServiceAccount(this, 'ServiceAccount', metadata);

    // A plain ApiObject, written through the typed CronJob's converter: KubeCronJob would drop the
    // field patched in below, which its 1.27 types do not know.
    const cronJob = new ApiObject(this, 'CronJob', {
      ...k8s.KubeCronJob.GVK,
      ...k8s.toJson_KubeCronJobProps({
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
                metadata: { labels, annotations: { [SKIP_CREDENTIALS_ANNOTATION]: pod.credentialFreeContainers.join(',') } },
                spec: {
                  serviceAccountName: name,
                  automountServiceAccountToken: false,
                  // Each retry (after a spot interruption, say) is a new pod with empty volumes, never a
                  // half-written one.
                  restartPolicy: 'Never',
                  securityContext: restrictedPodSecurityContext(),
                  nodeSelector: { [NODE_POOL_LABEL]: gpu?.pool ?? GENERAL_NODE_POOL },
                  tolerations: gpu ? [{ key: GPU_RESOURCE, operator: 'Exists', effect: 'NoSchedule' }] : undefined,
                  initContainers: pod.initContainers,
                  containers: pod.containers,
                  volumes: pod.volumes,
                },
              },
            },
          },
        },
      }),
    });
    // A retry's pod starts only once the failed one has fully terminated (a spot interruption leaves
    // it terminating for its grace period), so a run never holds two pods' requests: the config's
    // quota and pool checks count one pod per job. GA in Kubernetes 1.34.
    cronJob.addJsonPatch(JsonPatch.add('/spec/jobTemplate/spec/podReplacementPolicy', 'Failed'));
  }
}

/**
 * Resources of a job step sized by the model's config: its CPU and memory, the scratch volume's
 * size as ephemeral storage (node disk, so the pod is scheduled where it fits), and its GPUs if any.
 */
export function jobStepResources(resources: ModelResources, workVolumeGiB: number, gpu?: ScheduledJobGpu): k8s.ResourceRequirements {
  const gpus: Record<string, k8s.Quantity> = gpu ? { [GPU_RESOURCE]: k8s.Quantity.fromNumber(gpu.count) } : {};
  return {
    requests: {
      'cpu': k8s.Quantity.fromString(`${resources.cpuRequestMillicores}m`),
      'memory': k8s.Quantity.fromString(`${resources.memoryRequestMiB}Mi`),
      'ephemeral-storage': k8s.Quantity.fromString(`${workVolumeGiB}Gi`),
      ...gpus,
    },
    limits: {
      cpu: k8s.Quantity.fromString(`${resources.cpuLimitMillicores}m`),
      memory: k8s.Quantity.fromString(`${resources.memoryLimitMiB}Mi`),
      ...gpus,
    },
  };
}

/** Environment variables from a name-to-value map, in its order. */
export function envVars(variables: Record<string, string>): k8s.EnvVar[] {
  return Object.entries(variables).map(([name, value]) => ({ name, value }));
}

/** Metric dimensions as the job commands read them, `Name=value,Name=value`. */
export function metricDimensionsValue(dimensions: Record<string, string>): string {
  return Object.entries(dimensions).map(([key, value]) => `${key}=${value}`).join(',');
}
