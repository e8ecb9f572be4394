import { RemovalPolicy, Tags, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { InterfaceEndpointName, PodHttpsEgress } from '../config/endpoints';
import { EncryptedLogGroup } from './encrypted-log-group';
import { EncryptionKey } from './encryption-key';

const ENDPOINT_SERVICES: Record<InterfaceEndpointName, ec2.InterfaceVpcEndpointAwsService> = {
  ecrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
  ecrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  sts: ec2.InterfaceVpcEndpointAwsService.STS,
  secretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  cloudWatchLogs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  s3: ec2.InterfaceVpcEndpointAwsService.S3,
  cloudWatchMetrics: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
};

/** Properties of a {@link PlatformVpc}. */
export interface PlatformVpcProps {
  /** Zones to spread subnets over, named so that synth needs no lookup. */
  readonly availabilityZones: string[];
  /** IPv4 CIDR block of the VPC; a literal, so that rules naming it stay readable. @default '10.0.0.0/16' */
  readonly cidr?: string;
  /** NAT gateways; fewer than the zones saves cost at the price of cross-zone egress. @default 1 */
  readonly natGateways?: number;
  /** Prefix length of each public subnet. @default 24 */
  readonly publicSubnetMask?: number;
  /** Prefix length of each private subnet, where nodes and pods draw addresses. @default 19 */
  readonly privateSubnetMask?: number;
  /** Prefix length of each isolated subnet, for the database. @default 24 */
  readonly isolatedSubnetMask?: number;
  /** Prefix length of each load-balancer subnet, for the shared internal load balancer alone; ELB asks for /27 or larger. @default 26 */
  readonly loadBalancerSubnetMask?: number;
  /** Prefix length of each endpoint subnet, for the interface endpoints alone (AWS's smallest subnet is a /28). @default 27 */
  readonly endpointSubnetMask?: number;
  /** Interface endpoints to create in the endpoint subnets. @default - none */
  readonly interfaceEndpoints?: InterfaceEndpointName[];
  /** Key that encrypts the flow log group. @default - a new key with rotation */
  readonly logsKey?: kms.IKey;
  /** Name of the flow log group. */
  readonly flowLogGroupName: string;
  /** Days to keep flow logs. @default RetentionDays.ONE_YEAR */
  readonly flowLogRetention?: logs.RetentionDays;
  /** Which traffic flow logs record. @default FlowLogTrafficType.ALL */
  readonly flowLogTrafficType?: ec2.FlowLogTrafficType;
  /** What happens to the flow log group when it leaves the stack. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** Subnet tags by which EKS finds subnets for internet-facing and internal load balancers. */
const LOAD_BALANCER_SUBNET_TAGS = ['kubernetes.io/role/elb', 'kubernetes.io/role/internal-elb'];

/** Names of the platform VPC's subnet groups: isolated subnets are selected by name, since two groups share the type. */
export const SUBNET_GROUPS = {
  public: 'Public',
  private: 'Private',
  isolated: 'Isolated',
  loadBalancer: 'LoadBalancer',
  endpoints: 'Endpoints',
} as const;

/**
 * The platform's VPC: public, private (egress through NAT), isolated (database), load-balancer and
 * endpoint subnets in every zone, an S3 gateway endpoint, optional interface endpoints and encrypted
 * flow logs.
 */
export class PlatformVpc extends Construct {
  /** The VPC. */
  public readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, props: PlatformVpcProps) {
    super(scope, id);

    const cidr = props.cidr ?? '10.0.0.0/16';
    this.vpc = new ec2.Vpc(this, 'Resource', {
      ipAddresses: ec2.IpAddresses.cidr(cidr),
      availabilityZones: props.availabilityZones,
      natGateways: props.natGateways ?? 1,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [
        // Only NAT gateways (elastic IPs) and internet-facing load balancers live here: nothing needs an automatic public IP.
        {
          name: SUBNET_GROUPS.public,
          subnetType: ec2.SubnetType.PUBLIC,
          cidrMask: props.publicSubnetMask ?? 24,
          mapPublicIpOnLaunch: false,
        },
        { name: SUBNET_GROUPS.private, subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: props.privateSubnetMask ?? 19 },
        { name: SUBNET_GROUPS.isolated, subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: props.isolatedSubnetMask ?? 24 },
        // The internal load balancer alone, so that NetworkPolicies can admit its addresses and no node's or pod's.
        // An internal load balancer needs only the VPC's local routes. Last in the list: the allocator hands out
        // ranges in this order, so appending a group leaves every existing subnet's CIDR as it was.
        {
          name: SUBNET_GROUPS.loadBalancer,
          subnetType: ec2.SubnetType.PRIVATE_ISOLATED,
          cidrMask: props.loadBalancerSubnetMask ?? 26,
        },
        // The interface endpoints alone, so that NetworkPolicies can let pods reach AWS APIs by these
        // addresses and no other. Appended after the load-balancer group for the same reason.
        { name: SUBNET_GROUPS.endpoints, subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: props.endpointSubnetMask ?? 27 },
      ],
      gatewayEndpoints: {
        S3: {
          service: ec2.GatewayVpcEndpointAwsService.S3,
          subnets: [{ subnetGroupName: SUBNET_GROUPS.private }, { subnetGroupName: SUBNET_GROUPS.isolated }],
        },
      },
    });

    Validations.of(this.vpc).acknowledge({
      id: 'CloudFormation-Validate::W3010',
      reason: 'Zones are named in config on purpose, so that synth needs no AWS lookup and subnets never move between zones.',
    });

    // EKS Auto Mode places load balancers only in subnets tagged for them. The platform's load balancer is built
    // in CDK, so no subnet carries those tags and no Service or Ingress in the cluster can open a load balancer of
    // its own. aws-eks-v2's Cluster adds them to every public and private subnet of its VPC; a removal outranks
    // an addition (priority 200 against 100), so they stay off whichever construct adds them.
    for (const subnet of [...this.vpc.publicSubnets, ...this.vpc.privateSubnets, ...this.vpc.isolatedSubnets]) {
      for (const key of LOAD_BALANCER_SUBNET_TAGS) {
        Tags.of(subnet).remove(key);
      }
    }

    const endpoints = props.interfaceEndpoints ?? [];
    if (endpoints.length > 0) {
      const endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc: this.vpc,
        description: 'Interface endpoints: HTTPS from inside the VPC only',
        allowAllOutbound: false,
      });
      endpointSecurityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), 'HTTPS from the VPC');
      for (const name of endpoints) {
        this.vpc.addInterfaceEndpoint(`${name[0].toUpperCase()}${name.slice(1)}Endpoint`, {
          service: ENDPOINT_SERVICES[name],
          subnets: { subnetGroupName: SUBNET_GROUPS.endpoints },
          privateDnsEnabled: true,
          // S3 alone has a gateway endpoint too. Its private DNS for every resolver sends the VPC's S3
          // requests to this endpoint's addresses, which a NetworkPolicy can name, instead of S3's
          // public ranges through the gateway, which it cannot.
          privateDnsOnlyForInboundResolverEndpoint:
            name === 's3' ? ec2.VpcEndpointPrivateDnsOnlyForInboundResolverEndpoint.ALL_RESOLVERS : undefined,
          securityGroups: [endpointSecurityGroup],
          open: false,
        });
      }
    }

    const logsKey =
      props.logsKey ??
      new EncryptionKey(this, 'LogsKey', {
        description: `Encrypts the flow logs of ${this.node.path}`,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
    const flowLogGroup = new EncryptedLogGroup(this, 'FlowLogGroup', {
      encryptionKey: logsKey,
      logGroupName: props.flowLogGroupName,
      retention: props.flowLogRetention,
      removalPolicy: props.removalPolicy,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup.logGroup),
      trafficType: props.flowLogTrafficType ?? ec2.FlowLogTrafficType.ALL,
    });
  }
}

/** Scheme of a load balancer: reachable from inside the VPC only, or from the internet. */
export type LoadBalancerScheme = 'internal' | 'internet-facing';

/** The subnets of a {@link PlatformVpc} a load balancer of this scheme sits in. */
function subnetsForLoadBalancer(vpc: ec2.IVpc, scheme: LoadBalancerScheme): ec2.ISubnet[] {
  const subnetGroupName = scheme === 'internet-facing' ? SUBNET_GROUPS.public : SUBNET_GROUPS.loadBalancer;
  return vpc.selectSubnets({ subnetGroupName }).subnets;
}

/**
 * Subnets of a {@link PlatformVpc} a load balancer of this scheme sits in: the load-balancer subnets for an
 * internal one, the public subnets for an internet-facing one. Neither holds a node or a pod.
 */
export function loadBalancerSubnets(vpc: ec2.IVpc, scheme: LoadBalancerScheme = 'internal'): ec2.SubnetSelection {
  return { subnets: subnetsForLoadBalancer(vpc, scheme) };
}

/**
 * CIDRs of the subnets a load balancer of this scheme sits in ({@link loadBalancerSubnets}): its nodes'
 * addresses, which NetworkPolicies admit for IP targets.
 */
export function loadBalancerSubnetCidrs(vpc: ec2.IVpc, scheme: LoadBalancerScheme = 'internal'): string[] {
  return subnetsForLoadBalancer(vpc, scheme).map((subnet) => subnet.ipv4CidrBlock);
}

/**
 * Where pods may open HTTPS connections for AWS APIs: the endpoint subnets' CIDRs with `endpoints`
 * (only interface endpoints live there), any address with `anywhere`.
 */
export function podHttpsEgressCidrs(vpc: ec2.IVpc, egress: PodHttpsEgress): string[] {
  if (egress === 'anywhere') {
    return ['0.0.0.0/0'];
  }
  return vpc.selectSubnets({ subnetGroupName: SUBNET_GROUPS.endpoints }).subnets.map((subnet) => subnet.ipv4CidrBlock);
}
