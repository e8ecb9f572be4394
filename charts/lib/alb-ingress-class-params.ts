import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';

/** Properties of an {@link AlbIngressClassParams}. */
export interface AlbIngressClassParamsProps {
  /** Name of the parameters, which the IngressClass references. */
  readonly name: string;
  /** Load balancer scheme. @default 'internal' */
  readonly scheme?: 'internal' | 'internet-facing';
  /** Name of the Ingress group: every Ingress of the class shares one load balancer of this name. */
  readonly groupName: string;
  /** ACM certificate of the HTTPS listener. @default - HTTP only */
  readonly certificateArn?: string;
}

/**
 * Settings of EKS Auto Mode's load balancer for an IngressClass: scheme, certificate, and one
 * load balancer for every Ingress of the class, since one per model would bill an ALB each. The
 * load balancer drops requests with invalid header fields rather than pass them on.
 */
export class AlbIngressClassParams extends ApiObject {
  constructor(scope: Construct, id: string, props: AlbIngressClassParamsProps) {
    super(scope, id, {
      apiVersion: 'eks.amazonaws.com/v1',
      kind: 'IngressClassParams',
      metadata: { name: props.name },
      spec: {
        scheme: props.scheme ?? 'internal',
        group: { name: props.groupName },
        ...(props.certificateArn ? { certificateARNs: [props.certificateArn] } : {}),
        loadBalancerAttributes: [{ key: 'routing.http.drop_invalid_header_fields.enabled', value: 'true' }],
      },
    });
  }
}
