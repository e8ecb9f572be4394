/** What a set of model pods asks the scheduler for. */
export interface Demand {
  /** Pods. */
  readonly pods: number;
  /** vCPUs requested. */
  readonly cpu: number;
  /** Memory requested, in GiB. */
  readonly memoryGiB: number;
  /** GPUs requested. */
  readonly gpus: number;
}

/** The parts of a model's config that decide its demand. */
export interface ModelSizing {
  readonly resources: { readonly cpuRequestMillicores: number; readonly memoryRequestMiB: number };
  readonly gpu?: { readonly count: number };
  readonly autoscaling: { readonly maxReplicas: number };
}

/** Resources a Demand is made of, in report order. */
export const DEMAND_RESOURCES = ['pods', 'cpu', 'memoryGiB', 'gpus'] as const;

/**
 * What models ask for at their peak: every one at maxReplicas, plus the extra pod a rolling
 * update starts before it stops an old one (maxSurge 1, maxUnavailable 0).
 */
export function peakDemand(models: readonly ModelSizing[]): Demand {
  return models.reduce<Demand>(
    (sum, model) => {
      const pods = model.autoscaling.maxReplicas + 1;
      return {
        pods: sum.pods + pods,
        cpu: sum.cpu + (pods * model.resources.cpuRequestMillicores) / 1000,
        memoryGiB: sum.memoryGiB + (pods * model.resources.memoryRequestMiB) / 1024,
        gpus: sum.gpus + pods * (model.gpu?.count ?? 0),
      };
    },
    { pods: 0, cpu: 0, memoryGiB: 0, gpus: 0 },
  );
}
