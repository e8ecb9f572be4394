import { ApiObject, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';

/** Name of the NodeClass that enforces NetworkPolicies; every workload NodePool must use it. */
export const ENFORCING_NODE_CLASS = 'platform';

/** Name of the general-purpose CPU NodePool. */
export const GENERAL_NODE_POOL = 'general';

/** Name of the IngressClass (and its parameters) behind which every platform Ingress shares one load balancer. */
export const PLATFORM_INGRESS_CLASS = 'platform';

/** Label every platform NodePool puts on its nodes, naming the pool, for node selectors. */
export const NODE_POOL_LABEL = 'mlops.platform/node-pool';

/** Taint of GPU nodes, and the resource GPU pods request: only pods that ask for a GPU land on one. */
export const GPU_RESOURCE = 'nvidia.com/gpu';

/** Limits and disruption settings of the general-purpose pool. */
export interface GeneralNodePoolOptions {
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
  /** When Karpenter may consolidate: `WhenEmpty` or `WhenEmptyOrUnderutilized`. */
  readonly consolidationPolicy: string;
  /** How long a node must be consolidatable before removal, e.g. `1m`. */
  readonly consolidateAfter: string;
  /** Node lifetime, e.g. `336h`. */
  readonly expireAfter: string;
  /** Most nodes disrupted at once, a count or a percentage. */
  readonly disruptionBudget: string;
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
  /** Load balancer scheme. @default 'internal' */
  readonly ingressScheme?: 'internal' | 'internet-facing';
  /** Name of the Ingress group, hence of the shared load balancer. */
  readonly ingressGroupName: string;
  /** ACM certificate for HTTPS listeners. @default - HTTP only */
  readonly certificateArn?: string;
}

/**
 * Cluster-wide settings the platform applies once: NetworkPolicy enforcement (the VPC CNI
 * switch and an enforcing NodeClass), the general-purpose NodePool on that NodeClass, and the
 * IngressClass through which every Ingress shares one Auto Mode load balancer.
 */
export class ClusterConfigChart extends Chart {
  constructor(scope: Construct, id: string, props: ClusterConfigChartProps) {
    super(scope, id, { disableResourceNameHashes: true });

    // Without this switch Auto Mode accepts NetworkPolicies and enforces none of them.
    new k8s.KubeConfigMap(this, 'NetworkPolicyController', {
      metadata: { name: 'amazon-vpc-cni', namespace: 'kube-system' },
      data: { 'enable-network-policy-controller': 'true' },
    });

    new ApiObject(this, 'NodeClass', {
      apiVersion: 'eks.amazonaws.com/v1',
      kind: 'NodeClass',
      metadata: { name: ENFORCING_NODE_CLASS },
      spec: {
        role: props.nodeRoleName,
        subnetSelectorTerms: props.nodeSubnetIds.map((id) => ({ id })),
        securityGroupSelectorTerms: props.nodeSecurityGroupIds.map((id) => ({ id })),
        // Pods no policy selects stay reachable; platform namespaces bring their own default-deny.
        networkPolicy: 'DefaultAllow',
        networkPolicyEventLogs: 'Enabled',
        snatPolicy: 'Random',
      },
    });

    const pool = props.generalNodePool;
    new ApiObject(this, 'GeneralNodePool', {
      apiVersion: 'karpenter.sh/v1',
      kind: 'NodePool',
      metadata: { name: GENERAL_NODE_POOL },
      spec: {
        template: {
          metadata: { labels: { [NODE_POOL_LABEL]: GENERAL_NODE_POOL } },
          spec: {
            nodeClassRef: { group: 'eks.amazonaws.com', kind: 'NodeClass', name: ENFORCING_NODE_CLASS },
            requirements: [
              { key: 'karpenter.sh/capacity-type', operator: 'In', values: pool.capacityTypes },
              { key: 'eks.amazonaws.com/instance-category', operator: 'In', values: pool.instanceCategories },
              {
                key: 'eks.amazonaws.com/instance-generation',
                operator: 'Gt',
                values: [String(pool.minInstanceGeneration - 1)],
              },
              { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
              { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
            ],
            expireAfter: pool.expireAfter,
          },
        },
        limits: { cpu: String(pool.cpuLimit), memory: `${pool.memoryLimitGiB}Gi` },
        disruption: {
          consolidationPolicy: pool.consolidationPolicy,
          consolidateAfter: pool.consolidateAfter,
          budgets: [{ nodes: pool.disruptionBudget }],
        },
      },
    });

    new ApiObject(this, 'IngressClassParams', {
      apiVersion: 'eks.amazonaws.com/v1',
      kind: 'IngressClassParams',
      metadata: { name: PLATFORM_INGRESS_CLASS },
      spec: {
        scheme: props.ingressScheme ?? 'internal',
        // One load balancer for every Ingress of the class: one per model would bill an ALB each.
        group: { name: props.ingressGroupName },
        ...(props.certificateArn ? { certificateARNs: [props.certificateArn] } : {}),
        loadBalancerAttributes: [{ key: 'routing.http.drop_invalid_header_fields.enabled', value: 'true' }],
      },
    });

    new k8s.KubeIngressClass(this, 'IngressClass', {
      metadata: { name: PLATFORM_INGRESS_CLASS },
      spec: {
        controller: 'eks.amazonaws.com/alb',
        parameters: { apiGroup: 'eks.amazonaws.com', kind: 'IngressClassParams', name: PLATFORM_INGRESS_CLASS },
      },
    });
  }
}
