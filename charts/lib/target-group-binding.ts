import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';

/** Properties of a {@link TargetGroupBinding}. */
export interface TargetGroupBindingProps {
  /** Name of the binding. Renaming deletes the old binding, and with it, on Auto Mode, the target group. */
  readonly name: string;
  /** Namespace of the binding, which must be the Service's. */
  readonly namespace: string;
  /** Labels of the binding. @default - none */
  readonly labels?: Record<string, string>;
  /** ARN of the IP target group to fill, tagged `eks:eks-cluster-name` with the cluster's name; often a deploy-time value. */
  readonly targetGroupArn: string;
  /** Name of the Service whose ready pods become the group's targets. */
  readonly serviceName: string;
  /** The Service's port, by number or name; targets are registered on the port it forwards to. */
  readonly servicePort: number | string;
}

/**
 * An EKS Auto Mode TargetGroupBinding: keeps the pods behind a Service registered, by IP, in a
 * target group made outside the cluster. Only the fields Auto Mode is documented to accept: the
 * group by ARN (it refuses `targetGroupName`), `targetType`, which it requires, and the Service.
 * Auto Mode deletes the target group when the binding or the cluster goes
 * (docs/design/traffic-facts.md §1.3): delete a binding only with its group.
 */
export class TargetGroupBinding extends ApiObject {
  constructor(scope: Construct, id: string, props: TargetGroupBindingProps) {
    super(scope, id, {
      apiVersion: 'eks.amazonaws.com/v1',
      kind: 'TargetGroupBinding',
      metadata: { name: props.name, namespace: props.namespace, labels: props.labels },
      spec: {
        targetGroupARN: props.targetGroupArn,
        targetType: 'ip',
        serviceRef: { name: props.serviceName, port: props.servicePort },
      },
    });
  }
}
