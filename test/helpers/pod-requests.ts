import { k8s } from 'cdk8s-plus-27';
import { GPU_RESOURCE, NODE_POOL_LABEL } from '../../charts/cluster-config-chart';
import { GENERAL_NODE_POOL } from '../../lib/config/platform-names';
import type { ScheduledJobPod } from '../../lib/config/scheduled-job-sizing';

/** A rendered CPU quantity, `500m` or whole CPUs such as `1`, in millicores. */
function millicores(quantity: unknown): number {
  const [, number, milli] = /^(\d+(?:\.\d+)?)(m?)$/.exec(String(quantity ?? 0)) ?? [];
  if (number === undefined) {
    throw new Error(`not a CPU quantity the charts write: ${String(quantity)}`);
  }
  return milli ? Number(number) : Number(number) * 1000;
}

/** A rendered memory quantity, `512Mi` or `2Gi`, in MiB. */
function mebibytes(quantity: unknown): number {
  const [, number, unit] = /^(\d+)(Mi|Gi)$/.exec(String(quantity ?? '0Mi')) ?? [];
  if (number === undefined) {
    throw new Error(`not a memory quantity the charts write: ${String(quantity)}`);
  }
  return Number(number) * (unit === 'Gi' ? 1024 : 1);
}

/**
 * A rendered pod's effective requests, worked out from its containers the way Kubernetes does it
 * (per resource, the larger of its largest init container's request and the sum of its
 * containers'), and the GPU pool its node selector picks: what config validation must count for it.
 */
export function renderedPodRequests(pod: k8s.PodSpec): Omit<ScheduledJobPod, 'job'> {
  const effective = (request: (requests: Record<string, unknown>) => number) => {
    const of = (container: k8s.Container) => request(container.resources?.requests ?? {});
    return Math.max(...(pod.initContainers ?? []).map(of), pod.containers.reduce((sum, container) => sum + of(container), 0));
  };
  const pool = pod.nodeSelector?.[NODE_POOL_LABEL];
  return {
    cpuRequestMillicores: effective((requests) => millicores(requests.cpu)),
    memoryRequestMiB: effective((requests) => mebibytes(requests.memory)),
    gpus: effective((requests) => Number(requests[GPU_RESOURCE] ?? 0)),
    gpuPool: pool === GENERAL_NODE_POOL ? undefined : pool,
  };
}
