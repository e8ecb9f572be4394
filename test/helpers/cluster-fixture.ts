import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { PlatformCluster, PlatformClusterProps } from '../../lib/constructs/platform-cluster';
import { testApp } from './app';

/** A stack with a VPC (public, private and isolated subnets) and a PlatformCluster in it, for construct tests. */
export function clusterStack(overrides: Partial<PlatformClusterProps> = {}): { stack: Stack; vpc: ec2.Vpc; cluster: PlatformCluster } {
  const stack = new Stack(testApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    natGateways: 1,
    subnetConfiguration: [
      { name: 'Public', subnetType: ec2.SubnetType.PUBLIC },
      { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      { name: 'LoadBalancer', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 26 },
    ],
  });
  const cluster = new PlatformCluster(stack, 'Cluster', {
    vpc,
    clusterName: 'test',
    generalNodePool: {
      cpuLimit: 16,
      memoryLimitGiB: 64,
      capacityTypes: ['on-demand'],
      instanceCategories: ['m'],
      minInstanceGeneration: 6,
      consolidationPolicy: 'WhenEmptyOrUnderutilized',
      consolidateAfter: '1m',
      expireAfter: '336h',
      disruptionBudget: '10%',
    },
    ...overrides,
  });
  return { stack, vpc, cluster };
}
