import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';

/**
 * The VPC CNI setting that turns on its NetworkPolicy controller. Without it EKS Auto Mode
 * accepts NetworkPolicies and enforces none of them.
 */
export class NetworkPolicyController extends k8s.KubeConfigMap {
  constructor(scope: Construct, id: string) {
    super(scope, id, {
      metadata: { name: 'amazon-vpc-cni', namespace: 'kube-system' },
      data: { 'enable-network-policy-controller': 'true' },
    });
  }
}
