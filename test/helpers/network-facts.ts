import { Template } from 'aws-cdk-lib/assertions';

/** The CIDR blocks of the load-balancer subnets in a Network stack's template, in zone order. */
export function loadBalancerSubnetCidrs(network: Template): string[] {
  return Object.values(network.findResources('AWS::EC2::Subnet'))
    .filter((subnet) => subnet.Properties.Tags.some((tag: { Key: string; Value: string }) => tag.Key === 'aws-cdk:subnet-name' && tag.Value === 'LoadBalancer'))
    .map((subnet) => subnet.Properties.CidrBlock as string);
}
