import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { GENERAL_NODE_POOL } from '../lib/config/platform-names';
import { EnforcingNodeClass } from './lib/enforcing-node-class';
import { NetworkPolicyController } from './lib/network-policy-controller';
import { NodePoolDisruption, PlatformNodePool } from './lib/platform-node-pool';

/** Name of the NodeClass that enforces NetworkPolicies; every workload NodePool must use it. */
export const ENFORCING_NODE_CLASS = 'platform';

/** Label every platform NodePool puts on its nodes, naming the pool, for node selectors. */
export const NODE_POOL_LABEL = 'mlops.platform/node-pool';

/** Taint of GPU nodes, and the resource GPU pods request: only pods that ask for a GPU land on one. */
export const GPU_RESOURCE = 'nvidia.com/gpu';

/** Limits and disruption settings of the general-purpose pool. */
export interface GeneralNodePoolOptions extends NodePoolDisruption {
  /** Most vCPUs the pool may run at once. */
  readonly cpuLimit: number;
  /** Most memory the pool may run at once, in GiB. */
  readonly memoryLimitGiB: number;
  /** EC2 capacity types, `on-demand` and/or `spot`. */
  readonly capacityTypes: string[];
  /** EC2 instance categories such as `c`, `m`, `r`. */
  readonly instanceCategories: string[];
  /** Oldest instance generation allowed. */
  readonly minInstanceGeneration: number;
}

/** Properties of a {@link ClusterConfigChart}. */
export interface ClusterConfigChartProps {
  /** Name of the Auto Mode node IAM role (it already has an access entry). */
  readonly nodeRoleName: string;
  /** Subnets for nodes: the VPC's private subnets. */
  readonly nodeSubnetIds: string[];
  /** Security groups for nodes: the cluster security group, which the database admits. */
  readonly nodeSecurityGroupIds: string[];
  /** The general-purpose pool's settings. */
  readonly generalNodePool: GeneralNodePoolOptions;
}

/**
 * Cluster-wide settings the platform applies once: NetworkPolicy enforcement (the VPC CNI
 * switch and an enforcing NodeClass) and the general-purpose NodePool on that NodeClass. There is
 * no IngressClass: the platform's load balancer is built in CDK, and pods join its target groups
 * through TargetGroupBindings, so no tenant object can attach to it.
 */
export class ClusterConfigChart extends Chart {
  constructor(scope: Construct, id: string, props: ClusterConfigChartProps) {
    super(scope, id, { disableResourceNameHashes: true });

    new NetworkPolicyController(this, 'NetworkPolicyController');

    new EnforcingNodeClass(this, 'NodeClass', {
      name: ENFORCING_NODE_CLASS,
      role: props.nodeRoleName,
      subnetIds: props.nodeSubnetIds,
      securityGroupIds: props.nodeSecurityGroupIds,
    });

    const pool = props.generalNodePool;
    new PlatformNodePool(this, 'GeneralNodePool', {
      name: GENERAL_NODE_POOL,
      nodeClass: ENFORCING_NODE_CLASS,
      labels: { [NODE_POOL_LABEL]: GENERAL_NODE_POOL },
      capacityTypes: pool.capacityTypes,
      instanceRequirements: [
        { key: 'eks.amazonaws.com/instance-category', operator: 'In', values: pool.instanceCategories },
        { key: 'eks.amazonaws.com/instance-generation', operator: 'Gt', values: [String(pool.minInstanceGeneration - 1)] },
      ],
      limits: { cpu: String(pool.cpuLimit), memory: `${pool.memoryLimitGiB}Gi` },
      disruption: pool,
    });
  }
}
