import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { namePath, statefulRemovalPolicy } from '../config/derived';
import { PlatformVpc } from '../constructs/platform-vpc';
import { PlatformStack, PlatformStackProps } from './platform-stack';

/** The environment's VPC. */
export class NetworkStack extends PlatformStack {
  /** The VPC every other stack places its resources in. */
  public readonly vpc: ec2.IVpc;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { config } = props;
    const { network } = config;

    this.vpc = new PlatformVpc(this, 'Vpc', {
      availabilityZones: config.availabilityZones,
      cidr: network.vpcCidr,
      natGateways: network.natGateways,
      publicSubnetMask: network.subnetMasks.public,
      privateSubnetMask: network.subnetMasks.private,
      isolatedSubnetMask: network.subnetMasks.isolated,
      loadBalancerSubnetMask: network.subnetMasks.loadBalancer,
      endpointSubnetMask: network.subnetMasks.endpoints,
      interfaceEndpoints: network.interfaceEndpoints,
      flowLogGroupName: `/${namePath(config)}/vpc-flow-logs`,
      flowLogRetention: network.flowLogs.retentionDays as logs.RetentionDays,
      flowLogTrafficType: ec2.FlowLogTrafficType[network.flowLogs.trafficType],
      removalPolicy: statefulRemovalPolicy(config),
    }).vpc;
  }
}
