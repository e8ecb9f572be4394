import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';

/** Properties of a {@link PlatformDns}. */
export interface PlatformDnsProps {
  /** VPC whose resolver answers for the zone; a created zone is associated with it. */
  readonly vpc: ec2.IVpc;
  /** Domain of the zone, e.g. prod.mlops.example.internal. */
  readonly zoneName: string;
  /** ID of an existing zone named `zoneName` to write the records into. @default - a private hosted zone associated with `vpc` is created */
  readonly hostedZoneId?: string;
  /** Load balancer every host name points at. */
  readonly loadBalancer: elbv2.ILoadBalancerV2;
  /** Host names to point at the load balancer, each inside `zoneName`. */
  readonly hostnames: string[];
}

/**
 * Name resolution for the hosts of the shared load balancer: a Route 53 private hosted zone associated with the
 * VPC (or an existing zone), and one A record per host name, an alias of the load balancer, so that a replaced
 * load balancer needs no record changed by hand. An alias answers with the load balancer's current addresses and
 * carries no TTL of its own.
 *
 * The records belong to this construct's stack: a host that leaves the list has its record deleted with the next
 * deployment, in an imported zone too. Records someone adds to a created zone by hand make CloudFormation fail to
 * delete the zone.
 */
export class PlatformDns extends Construct {
  /** The zone the records are in. */
  public readonly hostedZone: route53.IHostedZone;
  /** The A records, by host name. */
  public readonly records: Record<string, route53.ARecord>;

  constructor(scope: Construct, id: string, props: PlatformDnsProps) {
    super(scope, id);
    const outside = props.hostnames.filter((host) => host !== props.zoneName && !host.endsWith(`.${props.zoneName}`));
    if (outside.length > 0) {
      // A record name outside the zone would silently get the zone appended (host.other.internal.<zone>).
      throw new Error(`${this.node.path}: hostnames must be inside zone ${props.zoneName}; ${outside.join(', ')} are not`);
    }

    this.hostedZone = props.hostedZoneId
      ? route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', { hostedZoneId: props.hostedZoneId, zoneName: props.zoneName })
      : new route53.PrivateHostedZone(this, 'Zone', {
          zoneName: props.zoneName,
          vpc: props.vpc,
          comment: 'Host names of the MLOps platform load balancer',
        });

    const target = route53.RecordTarget.fromAlias(new targets.LoadBalancerTarget(props.loadBalancer));
    // Keyed by host name, so adding or removing one host leaves the other records' logical IDs alone.
    this.records = Object.fromEntries(
      [...new Set(props.hostnames)].map((host) => [
        host,
        // The trailing dot makes the name absolute, so CDK takes it as it is.
        new route53.ARecord(this, host, { zone: this.hostedZone, recordName: `${host}.`, target }),
      ]),
    );
  }
}
