import { Template } from 'aws-cdk-lib/assertions';
import { servedHostnames } from '../../../lib/config/derived';
import type { EnvironmentConfig } from '../../../lib/config/schema';
import { IngressStack } from '../../../lib/stacks/ingress-stack';
import { NetworkStack } from '../../../lib/stacks/network-stack';
import { ENVIRONMENTS, fixtureEnvironment, MINIMAL_ENVIRONMENT, MINIMAL_MODEL, testApp } from '../../helpers/app';
import { committedConfig, committedStageFacts, committedTemplate } from '../../helpers/committed-assembly';

/** Names of the Route 53 records a template writes, sorted. */
const recordNames = (template: Template) =>
  Object.values(template.findResources('AWS::Route53::RecordSet'))
    .map((record) => record.Properties.Name as string)
    .sort();

/** Every host the config serves, as Route 53 spells record names, sorted. */
const hostRecordNames = (config: EnvironmentConfig) => servedHostnames(config).map((host) => `${host}.`).sort();

describe.each(ENVIRONMENTS)('%s ingress stack', (name) => {
  const config = committedConfig(name);
  const template = committedTemplate(name, 'Ingress');
  const only = (type: string) => {
    const found = Object.values(template.findResources(type));
    expect(found).toHaveLength(1);
    return found[0].Properties;
  };
  const attribute = (key: string) =>
    (only('AWS::ElasticLoadBalancingV2::LoadBalancer').LoadBalancerAttributes as { Key: string; Value: string }[]).find((entry) => entry.Key === key)?.Value;

  test('places one load balancer of the configured scheme in the load-balancer subnets', () => {
    const balancer = only('AWS::ElasticLoadBalancingV2::LoadBalancer');
    expect(balancer.Scheme).toBe(config.ingress.scheme);
    const subnetGroup = config.ingress.scheme === 'internal' ? 'LoadBalancer' : 'Public';
    for (const subnet of balancer.Subnets) {
      expect(JSON.stringify(subnet)).toMatch(new RegExp(`${subnetGroup}Subnet`));
    }
    expect(balancer.Subnets).toHaveLength(config.availabilityZones.length);
  });

  test('serves HTTPS with the configured certificate where there is one, plain HTTP only without', () => {
    const listeners = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::Listener')).map((listener) => listener.Properties);
    const https = listeners.find((listener) => listener.Protocol === 'HTTPS');
    expect(https?.Certificates).toEqual(config.ingress.certificateArn ? [{ CertificateArn: config.ingress.certificateArn }] : undefined);
    expect(listeners.map((listener) => listener.Port).sort()).toEqual(config.ingress.certificateArn ? [443, 80] : [80]);
  });

  test('protects the load balancer from deletion in production and logs every request', () => {
    expect(attribute('deletion_protection.enabled')).toBe(String(config.environmentType === 'production'));
    expect(attribute('access_logs.s3.enabled')).toBe('true');
  });

  test('notifies the configured subscribers through a KMS-encrypted alarm topic', () => {
    expect(only('AWS::SNS::Topic').KmsMasterKeyId).toBeDefined();
    const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription')).map((subscription) => [subscription.Properties.Protocol, subscription.Properties.Endpoint]);
    expect(subscriptions.sort()).toEqual(
      [...config.alarms.emails.map((email) => ['email', email]), ...(config.alarms.httpsEndpoint ? [['https', config.alarms.httpsEndpoint]] : [])].sort(),
    );
  });

  test('depends on the network stack only, so MLflow and the models can add their rules to its listener', () => {
    expect(committedStageFacts(name).stacks.Ingress.dependencies).toEqual(['Network']);
  });

  test("publishes a record for MLflow's and every model's host if and only if dns is configured", () => {
    expect(recordNames(template)).toEqual(config.dns ? hostRecordNames(config) : []);
    expect(Object.keys(template.findResources('AWS::Route53::HostedZone'))).toHaveLength(config.dns && !config.dns.hostedZoneId ? 1 : 0);
  });
});

describe('an ingress stack with dns configured', () => {
  const ZONE = 'sandbox.example.internal';
  /** The Ingress template of a fixture environment with two models, one on its own host name, and `dns`. */
  const ingressTemplate = (dns: Record<string, unknown>) => {
    const config = fixtureEnvironment({
      ...MINIMAL_ENVIRONMENT,
      ingress: { servingDomain: `models.${ZONE}` },
      teams: [{ name: 'growth', quota: { cpu: 16, memoryGiB: 32, pods: 40 }, models: [MINIMAL_MODEL, { ...MINIMAL_MODEL, name: 'upsell', exposure: { hostname: `upsell.${ZONE}` } }] }],
      dns,
    });
    const app = testApp();
    const env = { account: config.account, region: config.region };
    const network = new NetworkStack(app, 'Network', { config, env });
    const ingress = new IngressStack(app, 'Ingress', { config, env, vpc: network.vpc });
    return { config, template: Template.fromStack(ingress), network: Template.fromStack(network) };
  };

  test("creates a private zone of the VPC with a record for MLflow's and each model's host, and outputs the zone's ID", () => {
    const { config, template, network } = ingressTemplate({ zoneName: ZONE });
    expect(recordNames(template)).toEqual([`churn.models.${ZONE}.`, `mlflow.sandbox.example.internal.`, `upsell.${ZONE}.`]);
    expect(recordNames(template)).toEqual(hostRecordNames(config));
    const [zoneId] = Object.keys(template.findResources('AWS::Route53::HostedZone', { Properties: { Name: `${ZONE}.` } }));
    const [vpcId] = Object.keys(network.findResources('AWS::EC2::VPC'));
    expect(JSON.stringify(template.findResources('AWS::Route53::HostedZone')[zoneId].Properties.VPCs)).toContain(vpcId);
    // Route 53 answers from a private zone only in a VPC with both DNS attributes on.
    network.hasResourceProperties('AWS::EC2::VPC', { EnableDnsHostnames: true, EnableDnsSupport: true });
    expect(template.findOutputs('HostedZoneId').HostedZoneId.Value).toEqual({ Ref: zoneId });
  });

  test('writes the records into an existing zone when given its ID, and outputs that ID', () => {
    const { template } = ingressTemplate({ zoneName: ZONE, hostedZoneId: 'Z0123456789ABCDEFGHIJ' });
    template.resourceCountIs('AWS::Route53::HostedZone', 0);
    template.allResourcesProperties('AWS::Route53::RecordSet', { HostedZoneId: 'Z0123456789ABCDEFGHIJ' });
    expect(recordNames(template)).toHaveLength(3);
    expect(template.findOutputs('HostedZoneId').HostedZoneId.Value).toBe('Z0123456789ABCDEFGHIJ');
  });
});
