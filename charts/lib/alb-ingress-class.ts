import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { AlbIngressClassParams } from './alb-ingress-class-params';

/** Properties of an {@link AlbIngressClass}. */
export interface AlbIngressClassProps {
  /** Name of the IngressClass, which Ingresses set as `ingressClassName`. */
  readonly name: string;
  /** The load balancer settings of the class. */
  readonly parameters: AlbIngressClassParams;
}

/** An IngressClass whose Ingresses EKS Auto Mode serves with an Application Load Balancer. */
export class AlbIngressClass extends k8s.KubeIngressClass {
  constructor(scope: Construct, id: string, props: AlbIngressClassProps) {
    super(scope, id, {
      metadata: { name: props.name },
      spec: {
        controller: 'eks.amazonaws.com/alb',
        parameters: { apiGroup: 'eks.amazonaws.com', kind: props.parameters.kind, name: props.parameters.name },
      },
    });
  }
}
