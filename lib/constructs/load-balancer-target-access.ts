import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';

/** Properties of a {@link LoadBalancerTargetAccess}. */
export interface LoadBalancerTargetAccessProps {
  /** Security group of the load balancer, which sends the traffic. */
  readonly loadBalancerSecurityGroup: ec2.ISecurityGroup;
  /** Security group of the targets, which receive it: for EKS Auto Mode pods, the cluster security group. */
  readonly targetSecurityGroup: ec2.ISecurityGroup;
  /** TCP port the targets listen on; health checks use it too. */
  readonly port: number;
  /** What the traffic is for, written on both rules. */
  readonly description: string;
}

/**
 * Lets a load balancer reach its targets on one TCP port: an egress rule on the load balancer's security group and
 * an ingress rule on the targets', each naming the other group.
 *
 * Both rules are standalone resources in this construct's own stack, the stack of the targets. The load balancer's
 * stack then never refers to a target stack, and each target stack opens, and on removal closes, its own port.
 * (`Connections.allowTo` would put the egress rule in the load balancer's stack, making it depend on the targets'.)
 */
export class LoadBalancerTargetAccess extends Construct {
  constructor(scope: Construct, id: string, props: LoadBalancerTargetAccessProps) {
    super(scope, id);
    const rule = {
      ipProtocol: 'tcp',
      fromPort: props.port,
      toPort: props.port,
      description: props.description,
    };
    new ec2.CfnSecurityGroupEgress(this, 'Egress', {
      ...rule,
      groupId: props.loadBalancerSecurityGroup.securityGroupId,
      destinationSecurityGroupId: props.targetSecurityGroup.securityGroupId,
    });
    new ec2.CfnSecurityGroupIngress(this, 'Ingress', {
      ...rule,
      groupId: props.targetSecurityGroup.securityGroupId,
      sourceSecurityGroupId: props.loadBalancerSecurityGroup.securityGroupId,
    });
  }
}
