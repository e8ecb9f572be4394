import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { addPolicyPacks } from '../../../lib/compliance';
import { NOT_FOUND_BODY, PlatformLoadBalancer, PlatformLoadBalancerProps } from '../../../lib/constructs/platform-load-balancer';
import { PlatformVpc } from '../../../lib/constructs/platform-vpc';
import { cdkJsonContext, testApp } from '../../helpers/app';
import { scratchFolder } from '../../helpers/scratch';

const ENV = { account: '123456789012', region: 'eu-west-1' };
const CERTIFICATE = 'arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-4000-8000-000000000001';
/** The account ELB delivers eu-west-1's access logs from (aws-cdk-lib's region facts). */
const EU_WEST_1_ELB_ACCOUNT = '156460612806';
const LISTENER = 'AWS::ElasticLoadBalancingV2::Listener';
const LOAD_BALANCER = 'AWS::ElasticLoadBalancingV2::LoadBalancer';

type Props = Omit<PlatformLoadBalancerProps, 'vpc'>;

/** A stack with a PlatformVpc and a PlatformLoadBalancer in it, made with `props`. */
function loadBalancerStack(props: Partial<Props> = {}, app: App = testApp()) {
  const stack = new Stack(app, 'Test', { env: ENV });
  const { vpc } = new PlatformVpc(stack, 'Vpc', { availabilityZones: ['eu-west-1a', 'eu-west-1b'], flowLogGroupName: '/test/flow-logs' });
  const loadBalancer = new PlatformLoadBalancer(stack, 'LoadBalancer', { vpc, inboundCidrs: ['10.0.0.0/16'], ...props });
  return { stack, vpc, loadBalancer, template: Template.fromStack(stack) };
}

/** The load balancer's attributes as a key-value record. */
function attributesOf(template: Template): Record<string, string> {
  const [resource] = Object.values(template.findResources(LOAD_BALANCER));
  const attributes: { Key: string; Value: string }[] = resource.Properties.LoadBalancerAttributes;
  return Object.fromEntries(attributes.map(({ Key, Value }) => [Key, Value]));
}

describe('PlatformLoadBalancer', () => {
  describe('with a certificate', () => {
    const { stack, loadBalancer, template } = loadBalancerStack({ certificateArn: CERTIFICATE });

    test('is internal by default, in the load-balancer subnets', () => {
      const subnets = loadBalancer.loadBalancer.vpc?.selectSubnets({ subnetGroupName: 'LoadBalancer' }).subnetIds;
      template.hasResourceProperties(LOAD_BALANCER, { Type: 'application', Scheme: 'internal', Subnets: stack.resolve(subnets) });
    });

    test('serves HTTPS on 443 with the certificate and the TLS 1.3/1.2 policy; that is the listener rules attach to', () => {
      template.hasResourceProperties(LISTENER, {
        Port: 443,
        Protocol: 'HTTPS',
        Certificates: [{ CertificateArn: CERTIFICATE }],
        SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      });
      const [https] = Object.keys(template.findResources(LISTENER, { Properties: { Port: 443 } }));
      expect(stack.resolve(loadBalancer.listener.listenerArn)).toEqual({ Ref: https });
    });

    test('redirects HTTP on 80 permanently to HTTPS on 443', () => {
      template.resourceCountIs(LISTENER, 2);
      template.hasResourceProperties(LISTENER, {
        Port: 80,
        Protocol: 'HTTP',
        DefaultActions: [{ Type: 'redirect', RedirectConfig: { Port: '443', Protocol: 'HTTPS', StatusCode: 'HTTP_301' } }],
      });
    });

    test('answers 404 with a JSON body for any host no rule claims', () => {
      template.hasResourceProperties(LISTENER, {
        Port: 443,
        DefaultActions: [
          {
            Type: 'fixed-response',
            FixedResponseConfig: { StatusCode: '404', ContentType: 'application/json', MessageBody: NOT_FOUND_BODY },
          },
        ],
      });
      expect(JSON.parse(NOT_FOUND_BODY)).toEqual({ error_code: 'NOT_FOUND', message: 'No model or service is served at this host' });
    });

    test('admits the inbound CIDRs on 443 and 80 and nothing else', () => {
      const { template: twoCidrs } = loadBalancerStack({ certificateArn: CERTIFICATE, inboundCidrs: ['10.0.0.0/16', '192.168.0.0/24'] });
      const ingress = (cidr: string, port: number) => Match.objectLike({ CidrIp: cidr, IpProtocol: 'tcp', FromPort: port, ToPort: port });
      twoCidrs.hasResourceProperties('AWS::EC2::SecurityGroup', {
        GroupDescription: Match.stringLikeRegexp('^Shared load balancer'),
        SecurityGroupIngress: [
          ingress('10.0.0.0/16', 443),
          ingress('10.0.0.0/16', 80),
          ingress('192.168.0.0/24', 443),
          ingress('192.168.0.0/24', 80),
        ],
      });
      twoCidrs.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    });

    test('sends nothing anywhere until a LoadBalancerTargetAccess opens a target port', () => {
      template.hasResourceProperties(LOAD_BALANCER, { SecurityGroups: [stack.resolve(loadBalancer.securityGroup.securityGroupId)] });
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        GroupDescription: Match.stringLikeRegexp('^Shared load balancer'),
        SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic' })],
      });
      template.resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
    });

    test('is protected from deletion by default, drops invalid header fields, mitigates desync defensively, idles out after 60 s', () => {
      expect(attributesOf(template)).toMatchObject({
        'deletion_protection.enabled': 'true',
        'routing.http.drop_invalid_header_fields.enabled': 'true',
        'routing.http.desync_mitigation_mode': 'defensive',
        'idle_timeout.timeout_seconds': '60',
      });
    });

    test('writes access logs to its own bucket, kept by default', () => {
      const bucketRef = stack.resolve(loadBalancer.accessLogsBucket.bucketName);
      expect(attributesOf(template)).toMatchObject({ 'access_logs.s3.enabled': 'true' });
      template.hasResourceProperties(LOAD_BALANCER, {
        LoadBalancerAttributes: Match.arrayWith([{ Key: 'access_logs.s3.bucket', Value: bucketRef }]),
      });
      template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    });

    test('encrypts the access logs with S3-managed keys, the only kind ELB writes to, and blocks public access', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      });
    });

    test("lets the region's ELB account write logs under AWSLogs/<account>/, and nobody use plain HTTP", () => {
      const bucketArn = stack.resolve(loadBalancer.accessLogsBucket.bucketArn);
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: 's3:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
            Match.objectLike({
              Effect: 'Allow',
              Action: 's3:PutObject',
              Principal: { AWS: `arn:aws:iam::${EU_WEST_1_ELB_ACCOUNT}:root` },
              Resource: { 'Fn::Join': ['', [bucketArn, `/AWSLogs/${ENV.account}/*`]] },
            }),
          ]),
        },
      });
    });

    test('expires access logs after 365 days by default, and after the given retention', () => {
      const expiration = (days: number) =>
        Match.objectLike({
          LifecycleConfiguration: {
            Rules: [Match.objectLike({ Status: 'Enabled', ExpirationInDays: days, NoncurrentVersionExpiration: { NoncurrentDays: 1 } })],
          },
        });
      template.hasResourceProperties('AWS::S3::Bucket', expiration(365));
      loadBalancerStack({ accessLogRetentionDays: 90 }).template.hasResourceProperties('AWS::S3::Bucket', expiration(90));
    });
  });

  describe('without a certificate', () => {
    const { template } = loadBalancerStack();

    test('serves plain HTTP on 80 alone, answering 404 for any host no rule claims', () => {
      template.resourceCountIs(LISTENER, 1);
      template.hasResourceProperties(LISTENER, {
        Port: 80,
        Protocol: 'HTTP',
        DefaultActions: [Match.objectLike({ Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '404' }) })],
      });
    });

    test('admits the inbound CIDRs on 80 only', () => {
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        GroupDescription: Match.stringLikeRegexp('^Shared load balancer'),
        SecurityGroupIngress: [Match.objectLike({ CidrIp: '10.0.0.0/16', FromPort: 80, ToPort: 80 })],
      });
    });
  });

  test('is internet-facing in the public subnets when asked', () => {
    const { stack, vpc, template } = loadBalancerStack({ internetFacing: true });
    const publicSubnets = vpc.selectSubnets({ subnetGroupName: 'Public' }).subnetIds;
    template.hasResourceProperties(LOAD_BALANCER, { Scheme: 'internet-facing', Subnets: stack.resolve(publicSubnets) });
  });

  test('can be deleted, and its bucket emptied and deleted, when asked', () => {
    const { template } = loadBalancerStack({ deletionProtection: false, removalPolicy: RemovalPolicy.DESTROY });
    expect(attributesOf(template)).toMatchObject({ 'deletion_protection.enabled': 'false' });
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
  });
});

describe('PlatformLoadBalancer under the policy packs', () => {
  /** Findings and acknowledgments of a synth with every policy pack, as `cdk synth` runs them. */
  function policyPackRun(props: Partial<Props>) {
    const outdir = fs.mkdtempSync(path.join(scratchFolder(), 'load-balancer-'));
    const app = new App({ context: cdkJsonContext(), outdir });
    addPolicyPacks(app, { validationCache: false });
    const { loadBalancer } = loadBalancerStack(props, app);
    let error: Error | undefined;
    try {
      app.synth();
    } catch (caught) {
      error = caught as Error;
    }
    const report: { pluginReports: { violations: { ruleName: string }[] }[] } = JSON.parse(
      fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'),
    );
    const acknowledged = loadBalancer.node
      .findAll()
      .flatMap((construct) => construct.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((entry) => Object.keys(entry.data as Record<string, string>));
    fs.rmSync(outdir, { recursive: true, force: true });
    return { error, findings: report.pluginReports.flatMap((plugin) => plugin.violations.map((violation) => violation.ruleName)), acknowledged };
  }

  test('pass with a certificate and deletion protection, acknowledging only the log bucket findings', () => {
    const { error, findings, acknowledged } = policyPackRun({ certificateArn: CERTIFICATE });
    expect({ error: error?.message, findings }).toEqual({ error: undefined, findings: [] });
    expect(acknowledged.sort()).toEqual([
      'AwsSolutions::AwsSolutions-S1',
      'cdk-validator-cfnguard::s3_bucket_default_encryption_kms_check',
      'cdk-validator-cfnguard::s3_bucket_logging_enabled_check',
      'cdk-validator-cfnguard::s3_bucket_object_lock_enabled_check',
      'cdk-validator-cfnguard::s3_event_notifications_enabled_check',
    ]);
  });

  test('pass without a certificate or deletion protection, acknowledging plain HTTP and deletion', () => {
    const { error, findings, acknowledged } = policyPackRun({ deletionProtection: false, removalPolicy: RemovalPolicy.DESTROY });
    expect({ error: error?.message, findings }).toEqual({ error: undefined, findings: [] });
    expect(acknowledged).toEqual(
      expect.arrayContaining([
        'cdk-validator-cfnguard::alb_http_to_https_redirection_check',
        'cdk-validator-cfnguard::elbv2_deletion_protection_enabled_check',
      ]),
    );
  });
});
