import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { PLATFORM_INGRESS_CLASS } from '../cluster-config-chart';
import { HTTP_PORT_NAME } from './http-workload';

/** Properties of a {@link PlatformIngress}. */
export interface PlatformIngressProps {
  /** Name, namespace and labels of the Ingress; the name is also the Service it routes to. */
  readonly metadata: k8s.ObjectMeta & { readonly name: string };
  /** Host name the Ingress routes. */
  readonly hostname: string;
  /** Path the load balancer's health check requests. */
  readonly healthCheckPath: string;
  /** CIDRs allowed to reach the load balancer. */
  readonly inboundCidrs: string[];
  /** Serve HTTPS with the IngressClass's certificate rather than HTTP. @default false */
  readonly https?: boolean;
}

/**
 * A host on the platform's shared load balancer (the `platform` IngressClass, one ALB for all),
 * routed to the Service of the same name's `http` port, with pod IPs as targets.
 */
export class PlatformIngress extends k8s.KubeIngress {
  constructor(scope: Construct, id: string, props: PlatformIngressProps) {
    const listener = props.https ? { HTTPS: 443 } : { HTTP: 80 };
    super(scope, id, {
      metadata: {
        ...props.metadata,
        annotations: {
          // Pod IPs as targets: traffic skips node ports, and NetworkPolicies see the load balancer's address.
          'alb.ingress.kubernetes.io/target-type': 'ip',
          'alb.ingress.kubernetes.io/listen-ports': JSON.stringify([listener]),
          'alb.ingress.kubernetes.io/inbound-cidrs': props.inboundCidrs.join(','),
          'alb.ingress.kubernetes.io/healthcheck-path': props.healthCheckPath,
          ...(props.https ? { 'alb.ingress.kubernetes.io/ssl-policy': 'ELBSecurityPolicy-TLS13-1-2-2021-06' } : {}),
        },
      },
      spec: {
        ingressClassName: PLATFORM_INGRESS_CLASS,
        rules: [
          {
            host: props.hostname,
            http: {
              paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: props.metadata.name, port: { name: HTTP_PORT_NAME } } } }],
            },
          },
        ],
      },
    });
  }
}
