import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { loadBalancerSubnets } from './platform-vpc';

/** What the load balancer answers for a host or path no listener rule claims. */
export const NOT_FOUND_BODY = JSON.stringify({
  error_code: 'NOT_FOUND',
  message: 'No model or service is served at this host',
});

/** Properties of a {@link PlatformLoadBalancer}. */
export interface PlatformLoadBalancerProps {
  /** VPC of the load balancer and its security group. */
  readonly vpc: ec2.IVpc;
  /** Subnets the load balancer's nodes sit in. @default - the load-balancer subnets, or the public ones when internet-facing */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Reachable from the internet rather than from inside the VPC and its connected networks only. @default false */
  readonly internetFacing?: boolean;
  /** ACM certificate of the HTTPS listener on 443, which HTTP on 80 then redirects to. @default - HTTP on 80 only, for development */
  readonly certificateArn?: string;
  /** TLS versions and ciphers of the HTTPS listener. @default SslPolicy.RECOMMENDED_TLS (ELBSecurityPolicy-TLS13-1-2-2021-06) */
  readonly sslPolicy?: elbv2.SslPolicy;
  /** IPv4 CIDRs admitted on the listener ports; nothing else may connect. */
  readonly inboundCidrs: string[];
  /** Refuse to delete the load balancer until this is turned off. @default true */
  readonly deletionProtection?: boolean;
  /** Days to keep access logs. @default 365 */
  readonly accessLogRetentionDays?: number;
  /** What happens to the access-log bucket when it leaves the stack; DESTROY also empties it. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** How long a connection may stay idle before the load balancer closes it. @default Duration.seconds(60) */
  readonly idleTimeout?: Duration;
}

/**
 * The environment's shared Application Load Balancer, built here rather than by EKS Auto Mode so that listener
 * rules, weighted target groups and alarms can be CDK resources. It listens on HTTPS (HTTP redirects to it), or
 * on HTTP alone without a certificate; admits only the inbound CIDRs; answers 404 for any host no rule claims;
 * drops requests with invalid header fields; and writes access logs to its own bucket.
 *
 * Its security group allows no outbound traffic: a {@link LoadBalancerTargetAccess} opens the load balancer to one
 * target port at a time, in the stack of the targets.
 */
export class PlatformLoadBalancer extends Construct {
  /** The load balancer. */
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** The listener that model and service rules attach to: HTTPS on 443, or HTTP on 80 without a certificate. */
  public readonly listener: elbv2.ApplicationListener;
  /** The load balancer's security group. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** Bucket receiving the load balancer's access logs. */
  public readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: PlatformLoadBalancerProps) {
    super(scope, id);
    const internetFacing = props.internetFacing ?? false;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Shared load balancer: listener ports from the inbound CIDRs only; out to opened target ports only',
      allowAllOutbound: false,
    });

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Resource', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets ?? loadBalancerSubnets(props.vpc, internetFacing ? 'internet-facing' : 'internal'),
      internetFacing,
      securityGroup: this.securityGroup,
      deletionProtection: props.deletionProtection ?? true,
      dropInvalidHeaderFields: true,
      // Set although they are the service defaults, so that the template states them and a test can hold them.
      desyncMitigationMode: elbv2.DesyncMitigationMode.DEFENSIVE,
      idleTimeout: props.idleTimeout ?? Duration.seconds(60),
    });

    this.accessLogsBucket = this.createAccessLogsBucket(Duration.days(props.accessLogRetentionDays ?? 365), removalPolicy);
    // Adds the bucket policy for the region's ELB log-delivery principal; it needs a concrete region.
    this.loadBalancer.logAccessLogs(this.accessLogsBucket);

    const notFound = elbv2.ListenerAction.fixedResponse(404, { contentType: 'application/json', messageBody: NOT_FOUND_BODY });
    if (props.certificateArn) {
      this.listener = this.loadBalancer.addListener('Https', {
        protocol: elbv2.ApplicationProtocol.HTTPS,
        port: 443,
        certificates: [elbv2.ListenerCertificate.fromArn(props.certificateArn)],
        sslPolicy: props.sslPolicy ?? elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultAction: notFound,
        open: false,
      });
      this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443, open: false });
    } else {
      this.listener = this.loadBalancer.addListener('Http', {
        protocol: elbv2.ApplicationProtocol.HTTP,
        port: 80,
        defaultAction: notFound,
        open: false,
      });
    }

    const listenerPorts: [number, string][] = props.certificateArn ? [[443, 'HTTPS'], [80, 'HTTP, redirected to HTTPS,']] : [[80, 'HTTP']];
    for (const cidr of props.inboundCidrs) {
      for (const [port, what] of listenerPorts) {
        this.securityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(port), `${what} from ${cidr}`);
      }
    }

    if (!props.certificateArn) {
      Validations.of(this.listener).acknowledge({
        id: 'cdk-validator-cfnguard::alb_http_to_https_redirection_check',
        reason:
          'No certificate is given, so the listener serves plain HTTP; config leaves ingress.certificateArn out only in development environments.',
      });
    }
    if (!(props.deletionProtection ?? true)) {
      Validations.of(this.loadBalancer).acknowledge({
        id: 'cdk-validator-cfnguard::elbv2_deletion_protection_enabled_check',
        reason: 'Deletion protection is turned off only for development environments, whose stacks are meant to be destroyed.',
      });
    }
  }

  /** A bucket for the access logs: S3-managed encryption (ELB supports no other), TLS only, private, expiring. */
  private createAccessLogsBucket(retention: Duration, removalPolicy: RemovalPolicy): s3.Bucket {
    const bucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: retention,
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy,
      autoDeleteObjects: removalPolicy === RemovalPolicy.DESTROY,
    });
    const isTheLogBucket = 'This bucket receives the load balancer access logs; logging access to it would need yet another log bucket.';
    Validations.of(bucket).acknowledge(
      { id: 'AwsSolutions::AwsSolutions-S1', reason: isTheLogBucket },
      { id: 'cdk-validator-cfnguard::s3_bucket_logging_enabled_check', reason: isTheLogBucket },
      {
        id: 'cdk-validator-cfnguard::s3_bucket_default_encryption_kms_check',
        reason: 'Application Load Balancers deliver access logs only to buckets encrypted with S3-managed keys (SSE-S3), not KMS.',
      },
      {
        id: 'cdk-validator-cfnguard::s3_event_notifications_enabled_check',
        reason: 'Nothing reacts to new access log objects; they are read during investigations only.',
      },
      {
        id: 'cdk-validator-cfnguard::s3_bucket_object_lock_enabled_check',
        reason: 'Access logs expire by lifecycle rule; a write-once retention would keep them past it.',
      },
    );
    return bucket;
  }
}
