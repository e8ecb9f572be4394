import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ipaddr from 'ipaddr.js';

/** True for an IPv4 CIDR whose address is its network address (AWS rejects host bits). */
export function isCanonicalIpv4Cidr(value: string): boolean {
  if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(value) || !ipaddr.IPv4.isValidCIDR(value)) {
    return false;
  }
  return ipaddr.IPv4.networkAddressFromCIDR(value).toString() === value.split('/')[0];
}

/** True when two IPv4 CIDR blocks share at least one address. */
export function ipv4CidrsOverlap(a: string, b: string): boolean {
  const [addressA, bitsA] = ipaddr.IPv4.parseCIDR(a);
  const [addressB, bitsB] = ipaddr.IPv4.parseCIDR(b);
  return addressA.match(addressB, bitsB) || addressB.match(addressA, bitsA);
}

/** Prefix lengths of the subnets each availability zone gets. */
export interface SubnetMasks {
  /** Public subnet (load balancers, NAT gateways). */
  readonly public: number;
  /** Private subnet with egress (nodes and pods). */
  readonly private: number;
  /** Isolated subnet (database). */
  readonly isolated: number;
  /** Load-balancer subnet (the shared load balancer, nothing else). */
  readonly loadBalancer: number;
  /** Endpoint subnet (the interface endpoints, nothing else). */
  readonly endpoints: number;
}

/**
 * True when a public, a private, an isolated, a load-balancer and an endpoint subnet per zone fit in `vpcCidr`. Asks the CDK's
 * own subnet allocator, the one the VPC construct uses, so the answer matches what synth would do.
 */
export function subnetsFit(vpcCidr: string, availabilityZones: readonly string[], masks: SubnetMasks): boolean {
  const groups: [string, ec2.SubnetType, number][] = [
    ['Public', ec2.SubnetType.PUBLIC, masks.public],
    ['Private', ec2.SubnetType.PRIVATE_WITH_EGRESS, masks.private],
    ['Isolated', ec2.SubnetType.PRIVATE_ISOLATED, masks.isolated],
    ['LoadBalancer', ec2.SubnetType.PRIVATE_ISOLATED, masks.loadBalancer],
    ['Endpoints', ec2.SubnetType.PRIVATE_ISOLATED, masks.endpoints],
  ];
  try {
    ec2.IpAddresses.cidr(vpcCidr).allocateSubnetsCidr({
      vpcCidr,
      requestedSubnets: groups.flatMap(([name, subnetType, cidrMask]) =>
        availabilityZones.map((availabilityZone, index) => ({
          availabilityZone,
          configuration: { name, subnetType, cidrMask },
          subnetConstructId: `${name}Subnet${index + 1}`,
        })),
      ),
    });
    return true;
  } catch {
    return false;
  }
}
