import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';

/** One Karpenter scheduling requirement on the instances a pool may launch. */
export interface NodeRequirement {
  /** Well-known label, e.g. `eks.amazonaws.com/instance-family`. */
  readonly key: string;
  /** `In`, `NotIn`, `Gt`, `Lt`, `Exists` or `DoesNotExist`. */
  readonly operator: string;
  /** Values the operator compares with. */
  readonly values: string[];
}

/** When Karpenter replaces a pool's nodes, and how many at once. */
export interface NodePoolDisruption {
  /** When Karpenter may consolidate: `WhenEmpty` or `WhenEmptyOrUnderutilized`. */
  readonly consolidationPolicy: string;
  /** How long a node must be consolidatable before removal, e.g. `1m`. */
  readonly consolidateAfter: string;
  /** Node lifetime, e.g. `336h`. */
  readonly expireAfter: string;
  /** Most nodes disrupted at once, a count or a percentage. */
  readonly disruptionBudget: string;
}

/** Properties of a {@link PlatformNodePool}. */
export interface PlatformNodePoolProps {
  /** Name of the NodePool. */
  readonly name: string;
  /** NodeClass the pool's nodes launch from. */
  readonly nodeClass: string;
  /** Labels of the pool's nodes, for node selectors. */
  readonly labels: Record<string, string>;
  /** Taints that keep pods off the nodes unless they tolerate them. @default - none */
  readonly taints?: { readonly key: string; readonly effect: string }[];
  /** EC2 capacity types, `on-demand` and/or `spot`. */
  readonly capacityTypes: string[];
  /** Which instances the pool may launch, besides capacity type and amd64 Linux. */
  readonly instanceRequirements: NodeRequirement[];
  /** Most of each resource the pool may run at once, e.g. `{ cpu: '64' }`. */
  readonly limits: Record<string, string>;
  /** When Karpenter replaces the pool's nodes. */
  readonly disruption: NodePoolDisruption;
}

/**
 * A Karpenter NodePool of amd64 Linux nodes on a given NodeClass, bounded by its limits. A
 * NodePool has no minimum size: an idle pool has no nodes.
 */
export class PlatformNodePool extends ApiObject {
  constructor(scope: Construct, id: string, props: PlatformNodePoolProps) {
    const { disruption } = props;
    super(scope, id, {
      apiVersion: 'karpenter.sh/v1',
      kind: 'NodePool',
      metadata: { name: props.name },
      spec: {
        template: {
          metadata: { labels: props.labels },
          spec: {
            nodeClassRef: { group: 'eks.amazonaws.com', kind: 'NodeClass', name: props.nodeClass },
            ...(props.taints ? { taints: props.taints } : {}),
            requirements: [
              { key: 'karpenter.sh/capacity-type', operator: 'In', values: props.capacityTypes },
              ...props.instanceRequirements,
              { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
              { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
            ],
            expireAfter: disruption.expireAfter,
          },
        },
        limits: props.limits,
        disruption: {
          consolidationPolicy: disruption.consolidationPolicy,
          consolidateAfter: disruption.consolidateAfter,
          budgets: [{ nodes: disruption.disruptionBudget }],
        },
      },
    });
  }
}
