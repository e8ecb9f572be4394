import { ENVIRONMENTS } from '../../helpers/app';
import { committedConfig, committedStageFacts, committedTemplate } from '../../helpers/committed-assembly';

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
});
