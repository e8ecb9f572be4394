import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { ENFORCING_NODE_CLASS, GPU_RESOURCE, NODE_POOL_LABEL } from './cluster-config-chart';
import { NodePoolDisruption, PlatformNodePool } from './lib/platform-node-pool';

/** One GPU profile. */
export interface GpuPoolOptions extends NodePoolDisruption {
  /** Pool name; GPU pods select it through the {@link NODE_POOL_LABEL} label. */
  readonly name: string;
  /** EC2 instance families with NVIDIA GPUs, e.g. `g6`. */
  readonly instanceFamilies: string[];
  /** `on-demand` or `spot`. */
  readonly capacityType: string;
  /** Most GPUs the pool may run at once. */
  readonly gpuLimit: number;
  /** Most vCPUs the pool may run at once. */
  readonly cpuLimit: number;
}

/** Properties of a {@link GpuNodePoolsChart}. */
export interface GpuNodePoolsChartProps {
  /** The GPU profiles. */
  readonly pools: GpuPoolOptions[];
}

/**
 * One Karpenter NodePool per GPU profile, on the enforcing NodeClass. Nodes are tainted so only
 * pods that tolerate the GPU taint land there, labelled with the pool's name for node selectors,
 * and bounded by GPU and CPU limits. A NodePool has no minimum size: an idle pool has no nodes.
 * Auto Mode brings the NVIDIA driver and device plugin with its GPU AMIs.
 */
export class GpuNodePoolsChart extends Chart {
  constructor(scope: Construct, id: string, props: GpuNodePoolsChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    for (const pool of props.pools) {
      new PlatformNodePool(this, pool.name, {
        name: gpuNodePoolName(pool.name),
        nodeClass: ENFORCING_NODE_CLASS,
        labels: { [NODE_POOL_LABEL]: pool.name },
        taints: [{ key: GPU_RESOURCE, effect: 'NoSchedule' }],
        capacityTypes: [pool.capacityType],
        instanceRequirements: [
          { key: 'eks.amazonaws.com/instance-family', operator: 'In', values: pool.instanceFamilies },
          { key: 'eks.amazonaws.com/instance-gpu-manufacturer', operator: 'In', values: ['nvidia'] },
        ],
        limits: { cpu: String(pool.cpuLimit), [GPU_RESOURCE]: String(pool.gpuLimit) },
        disruption: pool,
      });
    }
  }
}

/** The NodePool name of a GPU profile; prefixed so it never meets the general pool's. */
export function gpuNodePoolName(pool: string): string {
  return `gpu-${pool}`;
}
