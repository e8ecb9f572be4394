/**
 * What the pod of each scheduled job of a model requests: batch inference, training and the drift
 * report (charts/lib/batch-inference-cron-job.ts, training-cron-job.ts, drift-report-cron-job.ts).
 * It lives here, below the charts, so that config validation counts the jobs' pods against the
 * team's quota and the node pools with the requests the charts deploy: the charts take their fixed
 * steps' requests from here, and the steps config sizes from the same settings.
 */
import { batchResources } from './batch-inference';

/** CPU and memory one container requests. */
export interface StepRequests {
  /** CPU request, in millicores. */
  readonly cpuRequestMillicores: number;
  /** Memory request, in MiB. */
  readonly memoryRequestMiB: number;
}

/** Requests of the MLflow credentials init step of the training and drift pods (charts/lib/mlflow-credentials-init.ts). */
export const MLFLOW_CREDENTIALS_REQUESTS: StepRequests = { cpuRequestMillicores: 50, memoryRequestMiB: 128 };

/** Requests of each platform step of the training pod after the training step: the promotion gate and the report. */
export const TRAINING_PLATFORM_STEP_REQUESTS: StepRequests = { cpuRequestMillicores: 100, memoryRequestMiB: 512 };

/** GPUs of a step and the pool they come from. */
interface StepGpu {
  readonly pool: string;
  readonly count: number;
}

/** The parts of a model's config that decide its scheduled jobs' pods. */
export interface ScheduledJobsSizing {
  /** The versions; batch inference runs the first one's image on its GPUs, with its resources by default. */
  readonly versions: readonly { readonly resources: StepRequests; readonly gpu?: StepGpu }[];
  readonly batch?: { readonly resources?: Partial<StepRequests> };
  readonly training?: { readonly resources: StepRequests; readonly gpu?: StepGpu };
  readonly drift?: { readonly resources: StepRequests };
}

/** The pod of one run of a model's scheduled job, as the scheduler and the ResourceQuota count it. */
export interface ScheduledJobPod {
  /** The job, named as its section of the model's config. */
  readonly job: 'batch' | 'training' | 'drift';
  /** Effective CPU request, in millicores. */
  readonly cpuRequestMillicores: number;
  /** Effective memory request, in MiB. */
  readonly memoryRequestMiB: number;
  /** Effective GPU request. */
  readonly gpus: number;
  /** The GPU pool the pod runs on; undefined for the general pool. */
  readonly gpuPool?: string;
}

/** One container of a job's pod: its requests, GPUs included. */
interface Step extends StepRequests {
  readonly gpus?: number;
}

/**
 * A pod's effective requests, as the scheduler and the ResourceQuota count them: per resource, the
 * larger of its largest init container's request and the sum of its containers' (init containers
 * run one at a time, before the containers). The job pods have no sidecar and no pod overhead.
 */
function effectiveRequests(initContainers: readonly Step[], containers: readonly Step[]) {
  const effective = (request: (step: Step) => number) =>
    Math.max(...initContainers.map(request), containers.reduce((sum, step) => sum + request(step), 0));
  return {
    cpuRequestMillicores: effective((step) => step.cpuRequestMillicores),
    memoryRequestMiB: effective((step) => step.memoryRequestMiB),
    gpus: effective((step) => step.gpus ?? 0),
  };
}

/**
 * The pod of each scheduled job of a model, in config order (batch, training, drift). Each job runs
 * at most one pod at a time: its runs never overlap (concurrencyPolicy Forbid) and its retries
 * follow one another.
 */
export function scheduledJobPods(model: ScheduledJobsSizing): ScheduledJobPod[] {
  const [primary] = model.versions;
  const pods: ScheduledJobPod[] = [];
  if (model.batch) {
    // fetch, then predict with the first version's GPUs, then upload; all three sized alike.
    const step = batchResources(primary, model.batch.resources);
    const predict = { ...step, gpus: primary.gpu?.count };
    pods.push({ job: 'batch', ...effectiveRequests([step, predict], [step]), gpuPool: primary.gpu?.pool });
  }
  if (model.training) {
    // The credentials, then training with its GPUs, then the promotion gate, then the report.
    const { resources, gpu } = model.training;
    const train = { ...resources, gpus: gpu?.count };
    const initContainers = [MLFLOW_CREDENTIALS_REQUESTS, train, TRAINING_PLATFORM_STEP_REQUESTS];
    pods.push({ job: 'training', ...effectiveRequests(initContainers, [TRAINING_PLATFORM_STEP_REQUESTS]), gpuPool: gpu?.pool });
  }
  if (model.drift) {
    // The credentials, then the report.
    pods.push({ job: 'drift', ...effectiveRequests([MLFLOW_CREDENTIALS_REQUESTS], [model.drift.resources]) });
  }
  return pods;
}
