import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { loadBalancerSubnetCidrs, loadBalancerSubnets, PlatformVpc, PlatformVpcProps, podHttpsEgressCidrs, SUBNET_GROUPS } from '../../../lib/constructs/platform-vpc';
import { testApp } from '../../helpers/app';

const TWO_ZONES = ['eu-west-1a', 'eu-west-1b'];
const THREE_ZONES = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];

function platformVpc(props: Partial<PlatformVpcProps> = {}): { stack: Stack; vpc: ec2.Vpc } {
  const stack = new Stack(testApp(), 'Test');
  const { vpc } = new PlatformVpc(stack, 'Vpc', { availabilityZones: TWO_ZONES, flowLogGroupName: '/test/vpc-flow-logs', ...props });
  return { stack, vpc };
}

/** Subnets of a group, by the construct ID the VPC gives each (`<group>Subnet<n>`), with their CIDRs. */
function cidrsOf(vpc: ec2.Vpc, groups: string[]): Record<string, string> {
  const subnets = [...vpc.publicSubnets, ...vpc.privateSubnets, ...vpc.isolatedSubnets];
  return Object.fromEntries(
    subnets
      .filter((subnet) => groups.some((group) => subnet.node.id.startsWith(`${group}Subnet`)))
      .map((subnet) => [subnet.node.id, subnet.ipv4CidrBlock]),
  );
}

/** The VPC as it was before the load-balancer subnets: public, private and isolated groups only. */
function vpcBeforeLoadBalancerSubnets(zones: string[], masks: { public: number; private: number; isolated: number }): ec2.Vpc {
  return new ec2.Vpc(new Stack(testApp(), 'Before'), 'Vpc', {
    ipAddresses: ec2.IpAddresses.cidr('10.0.0.0/16'),
    availabilityZones: zones,
    subnetConfiguration: [
      { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: masks.public },
      { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: masks.private },
      { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: masks.isolated },
    ],
  });
}

describe('PlatformVpc', () => {
  test.each([
    { zones: TWO_ZONES, masks: { public: 24, private: 19, isolated: 24 } },
    { zones: THREE_ZONES, masks: { public: 24, private: 19, isolated: 24 } },
    { zones: THREE_ZONES, masks: { public: 26, private: 20, isolated: 27 } },
  ])('keeps every older subnet at the CIDR it had before the load-balancer subnets ($zones.length zones, private /$masks.private)', ({ zones, masks }) => {
    const { vpc } = platformVpc({
      availabilityZones: zones,
      publicSubnetMask: masks.public,
      privateSubnetMask: masks.private,
      isolatedSubnetMask: masks.isolated,
    });
    const groups = ['Public', 'Private', 'Isolated'];
    const before = cidrsOf(vpcBeforeLoadBalancerSubnets(zones, masks), groups);
    expect(Object.keys(before)).toHaveLength(3 * zones.length);
    expect(cidrsOf(vpc, groups)).toEqual(before);
  });

  test.each([
    { zones: TWO_ZONES, loadBalancer: 26 },
    { zones: THREE_ZONES, loadBalancer: 27 },
  ])('keeps every older subnet at the CIDR it had before the endpoint subnets ($zones.length zones, load balancer /$loadBalancer)', ({ zones, loadBalancer }) => {
    const { vpc } = platformVpc({ availabilityZones: zones, loadBalancerSubnetMask: loadBalancer });
    const groups = ['Public', 'Private', 'Isolated', 'LoadBalancer'];
    const before = new ec2.Vpc(new Stack(testApp(), 'Before'), 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.0.0.0/16'),
      availabilityZones: zones,
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 19 },
        { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
        { name: 'LoadBalancer', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: loadBalancer },
      ],
    });
    expect(Object.keys(cidrsOf(before, groups))).toHaveLength(4 * zones.length);
    expect(cidrsOf(vpc, groups)).toEqual(cidrsOf(before, groups));
  });

  test('puts every interface endpoint, and nothing else, in the endpoint subnets, /27 by default', () => {
    const { stack, vpc } = platformVpc({ interfaceEndpoints: ['s3', 'secretsManager', 'cloudWatchMetrics'] });
    const endpointSubnets = vpc.selectSubnets({ subnetGroupName: SUBNET_GROUPS.endpoints }).subnets;
    expect(endpointSubnets.map((subnet) => subnet.ipv4CidrBlock)).toEqual(['10.0.98.128/27', '10.0.98.160/27']);
    const template = Template.fromStack(stack);
    const interfaces = Object.values(template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } }));
    expect(interfaces).toHaveLength(3);
    for (const endpoint of interfaces) {
      expect(endpoint.Properties.SubnetIds).toEqual(endpointSubnets.map((subnet) => stack.resolve(subnet.subnetId)));
    }
    const others = Object.values(cidrsOf(vpc, ['Public', 'Private', 'Isolated', 'LoadBalancer']));
    expect(others.filter((cidr) => endpointSubnets.some((subnet) => subnet.ipv4CidrBlock === cidr))).toEqual([]);
  });

  test("answers every resolver in the VPC with the S3 interface endpoint's addresses, which NetworkPolicies can name, and leaves the other endpoints' DNS as AWS sets it", () => {
    const template = Template.fromStack(platformVpc({ interfaceEndpoints: ['s3', 'secretsManager', 'cloudWatchMetrics'] }).stack);
    const endpoint = (service: string) =>
      Object.values(template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } })).find((resource) =>
        JSON.stringify(resource.Properties.ServiceName).includes(`.${service}"`),
      );
    expect(endpoint('s3')?.Properties).toMatchObject({ PrivateDnsEnabled: true, DnsOptions: { PrivateDnsOnlyForInboundResolverEndpoint: 'AllResolvers' } });
    for (const service of ['secretsmanager', 'monitoring']) {
      expect(endpoint(service)?.Properties).toMatchObject({ PrivateDnsEnabled: true });
      expect(endpoint(service)?.Properties.DnsOptions).toBeUndefined();
    }
  });

  test('gives every zone a load-balancer subnet of the configured size, /26 by default, apart from every other subnet', () => {
    const { vpc } = platformVpc({ availabilityZones: THREE_ZONES });
    const loadBalancer = Object.values(cidrsOf(vpc, [SUBNET_GROUPS.loadBalancer]));
    expect(loadBalancer).toEqual(['10.0.131.0/26', '10.0.131.64/26', '10.0.131.128/26']);
    expect(Object.values(cidrsOf(platformVpc({ loadBalancerSubnetMask: 27 }).vpc, [SUBNET_GROUPS.loadBalancer]))).toEqual([
      '10.0.98.0/27',
      '10.0.98.32/27',
    ]);
    const others = Object.values(cidrsOf(vpc, ['Public', 'Private', 'Isolated']));
    expect(others.filter((cidr) => loadBalancer.includes(cidr))).toEqual([]);
  });

  test('routes the load-balancer subnets inside the VPC only: no internet or NAT route, no S3 gateway route', () => {
    const { stack, vpc } = platformVpc();
    const template = Template.fromStack(stack);
    const loadBalancerRouteTables = vpc
      .selectSubnets({ subnetGroupName: SUBNET_GROUPS.loadBalancer })
      .subnets.map((subnet) => stack.resolve(subnet.routeTable.routeTableId));
    expect(loadBalancerRouteTables).toHaveLength(2);
    for (const routeTableId of loadBalancerRouteTables) {
      template.resourcePropertiesCountIs('AWS::EC2::Route', { RouteTableId: routeTableId }, 0);
    }
    const gateway = Object.values(template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Gateway' } }))[0];
    expect(gateway.Properties.RouteTableIds).toHaveLength(4);
    expect(gateway.Properties.RouteTableIds).not.toEqual(expect.arrayContaining([loadBalancerRouteTables[0]]));
  });

  test('tags no subnet for EKS load balancers, not even when an EKS cluster in the VPC adds the tags', () => {
    const { stack, vpc } = platformVpc();
    new eks.Cluster(stack, 'Cluster', { vpc, version: eks.KubernetesVersion.of('1.36'), defaultCapacityType: eks.DefaultCapacityType.AUTOMODE });
    const template = Template.fromStack(stack);
    for (const key of ['kubernetes.io/role/elb', 'kubernetes.io/role/internal-elb']) {
      template.resourcePropertiesCountIs('AWS::EC2::Subnet', { Tags: Match.arrayWith([Match.objectLike({ Key: key })]) }, 0);
    }
  });
});

describe('load balancer subnets', () => {
  const { vpc } = platformVpc();

  test('of an internal load balancer are the load-balancer subnets, which no node or pod uses', () => {
    expect(loadBalancerSubnetCidrs(vpc, 'internal')).toEqual(['10.0.98.0/26', '10.0.98.64/26']);
    expect(loadBalancerSubnetCidrs(vpc)).toEqual(loadBalancerSubnetCidrs(vpc, 'internal'));
    const privateCidrs = vpc.privateSubnets.map((subnet) => subnet.ipv4CidrBlock);
    expect(loadBalancerSubnetCidrs(vpc).filter((cidr) => privateCidrs.includes(cidr))).toEqual([]);
  });

  test('of an internet-facing load balancer are the public subnets', () => {
    expect(loadBalancerSubnetCidrs(vpc, 'internet-facing')).toEqual(vpc.publicSubnets.map((subnet) => subnet.ipv4CidrBlock));
  });

  test('are the subnets the selection picks, one per zone', () => {
    for (const scheme of ['internal', 'internet-facing'] as const) {
      const selected = vpc.selectSubnets(loadBalancerSubnets(vpc, scheme));
      expect(selected.subnets.map((subnet) => subnet.ipv4CidrBlock)).toEqual(loadBalancerSubnetCidrs(vpc, scheme));
      expect(selected.availabilityZones).toEqual(TWO_ZONES);
    }
  });
});

describe('pod HTTPS egress', () => {
  const { vpc } = platformVpc();

  test('through the endpoints is limited to the endpoint subnets, one per zone', () => {
    expect(podHttpsEgressCidrs(vpc, 'endpoints')).toEqual(['10.0.98.128/27', '10.0.98.160/27']);
  });

  test('anywhere is any address', () => {
    expect(podHttpsEgressCidrs(vpc, 'anywhere')).toEqual(['0.0.0.0/0']);
  });
});
