import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';

/** Label of namespaces whose pods may call platform services such as MLflow. */
export const TENANT_LABEL = 'mlops.platform/tenant';

/** Label marking namespaces the platform manages. */
export const MANAGED_LABEL = 'app.kubernetes.io/managed-by';

/** Properties of a {@link PlatformNamespace}. */
export interface PlatformNamespaceProps {
  /** Namespace name. */
  readonly name: string;
  /** Whether its pods may call platform services (MLflow). @default false */
  readonly tenant?: boolean;
  /** Extra labels. @default - none */
  readonly labels?: Record<string, string>;
}

/**
 * A namespace where nothing talks unless a policy says so: Pod Security Admission `restricted`
 * enforced, a default-deny NetworkPolicy for ingress and egress, and DNS allowed out. Workloads
 * add their own allow policies on top.
 */
export class PlatformNamespace extends Construct {
  /** Namespace name. */
  public readonly name: string;

  constructor(scope: Construct, id: string, props: PlatformNamespaceProps) {
    super(scope, id);
    this.name = props.name;

    new k8s.KubeNamespace(this, 'Namespace', {
      metadata: {
        name: props.name,
        labels: {
          ...props.labels,
          [MANAGED_LABEL]: 'mlops-platform',
          [TENANT_LABEL]: String(props.tenant ?? false),
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/audit': 'restricted',
        },
      },
    });

    new k8s.KubeNetworkPolicy(this, 'DefaultDeny', {
      metadata: { name: 'default-deny', namespace: props.name },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });

    // Auto Mode answers DNS on each node rather than from CoreDNS pods, so no pod or namespace
    // selector can name the resolver: allow port 53 to any address.
    new k8s.KubeNetworkPolicy(this, 'AllowDns', {
      metadata: { name: 'allow-dns', namespace: props.name },
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            ports: [
              { protocol: 'UDP', port: k8s.IntOrString.fromNumber(53) },
              { protocol: 'TCP', port: k8s.IntOrString.fromNumber(53) },
            ],
          },
        ],
      },
    });
  }
}
