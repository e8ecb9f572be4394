import { Template } from 'aws-cdk-lib/assertions';
import { SUBNET_GROUPS } from '../../lib/constructs/platform-vpc';

/** The CIDR blocks of one subnet group in a Network stack's template, in zone order. */
function subnetGroupCidrs(network: Template, group: string): string[] {
  return Object.values(network.findResources('AWS::EC2::Subnet'))
    .filter((subnet) => subnet.Properties.Tags.some((tag: { Key: string; Value: string }) => tag.Key === 'aws-cdk:subnet-name' && tag.Value === group))
    .map((subnet) => subnet.Properties.CidrBlock as string);
}

/** The CIDR blocks of the load-balancer subnets in a Network stack's template, in zone order. */
export function loadBalancerSubnetCidrs(network: Template): string[] {
  return subnetGroupCidrs(network, SUBNET_GROUPS.loadBalancer);
}

/** The CIDR blocks of the interface endpoints' subnets in a Network stack's template, in zone order. */
export function endpointSubnetCidrs(network: Template): string[] {
  return subnetGroupCidrs(network, SUBNET_GROUPS.endpoints);
}
