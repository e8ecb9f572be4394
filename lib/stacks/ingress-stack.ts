import { CfnOutput } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { ingressInboundCidrs, physicalName, servedHostnames, statefulRemovalPolicy } from '../config/derived';
import { AlarmTopic } from '../constructs/alarm-topic';
import { LoadBalancerAlarm } from '../constructs/load-balancer-alarm';
import { PlatformDns } from '../constructs/platform-dns';
import { PlatformLoadBalancer } from '../constructs/platform-load-balancer';
import { loadBalancerSubnets } from '../constructs/platform-vpc';
import { PlatformStack, PlatformStackProps } from './platform-stack';

/** Properties of an {@link IngressStack}. */
export interface IngressStackProps extends PlatformStackProps {
  /** VPC from the network stack. */
  readonly vpc: ec2.IVpc;
}

/**
 * The way in and the way out: the shared load balancer MLflow and every model version are
 * served behind, in its own subnets, with an alarm on its own 5XX answers; with `dns` set, the
 * Route 53 records of its host names; and the alarm topic every SLO and job alarm notifies.
 */
export class IngressStack extends PlatformStack {
  /** The shared load balancer; MLflow and the models add their target groups and rules to its listener. */
  public readonly loadBalancer: PlatformLoadBalancer;
  /** The environment's alarm topic. */
  public readonly alarmTopic: AlarmTopic;

  constructor(scope: Construct, id: string, props: IngressStackProps) {
    super(scope, id, props);
    const { config } = props;
    const { ingress } = config;
    const production = config.environmentType === 'production';

    this.loadBalancer = new PlatformLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets: loadBalancerSubnets(props.vpc, ingress.scheme),
      internetFacing: ingress.scheme === 'internet-facing',
      certificateArn: ingress.certificateArn,
      inboundCidrs: ingressInboundCidrs(config),
      deletionProtection: production,
      accessLogRetentionDays: config.artifacts.accessLogRetentionDays,
      removalPolicy: statefulRemovalPolicy(config),
    });

    new CfnOutput(this, 'LoadBalancerDnsName', {
      value: this.loadBalancer.loadBalancer.loadBalancerDnsName,
      description: "DNS name to point MLflow's and the models' host names at",
    });

    if (config.dns) {
      // Every host's record lives here, beside the load balancer, so no model stack refers to the zone.
      const dns = new PlatformDns(this, 'Dns', {
        vpc: props.vpc,
        zoneName: config.dns.zoneName,
        hostedZoneId: config.dns.hostedZoneId,
        loadBalancer: this.loadBalancer.loadBalancer,
        hostnames: servedHostnames(config),
      });
      new CfnOutput(this, 'HostedZoneId', {
        value: dns.hostedZone.hostedZoneId,
        description: "Route 53 zone holding MLflow's and the models' host names",
      });
    }

    this.alarmTopic = new AlarmTopic(this, 'AlarmTopic', {
      topicName: physicalName(config, 'alarms'),
      displayName: `MLOps platform ${config.name} alarms`,
      emails: config.alarms.emails,
      httpsEndpoint: config.alarms.httpsEndpoint,
      removalPolicy: statefulRemovalPolicy(config),
    });

    new LoadBalancerAlarm(this, 'LoadBalancerErrors', {
      loadBalancer: this.loadBalancer.loadBalancer,
      alarmName: physicalName(config, 'load-balancer-5xx'),
      topic: this.alarmTopic.topic,
    });
  }
}
