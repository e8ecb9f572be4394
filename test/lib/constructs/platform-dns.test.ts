import { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PlatformDns, PlatformDnsProps } from '../../../lib/constructs/platform-dns';
import { testApp } from '../../helpers/app';
import { policyFindings } from '../../helpers/policy-findings';
import { targetGroupFixture } from '../../helpers/target-group-fixture';

const ZONE = 'prod.mlops.example.internal';
const HOSTS = [`mlflow.${ZONE}`, `churn.models.${ZONE}`, `fraud-scorer.models.${ZONE}`];
const IMPORTED_ZONE_ID = 'Z0123456789ABCDEFGHIJ';
const RECORD = 'AWS::Route53::RecordSet';

/** A PlatformDns in the fixture's Ingress stack, beside its load balancer, made with `props`. */
function platformDns(props: Partial<Omit<PlatformDnsProps, 'vpc' | 'loadBalancer'>> = {}) {
  const { ingress, loadBalancer } = targetGroupFixture(testApp());
  const construct = new PlatformDns(ingress, 'Dns', { vpc: loadBalancer.vpc!, loadBalancer, zoneName: ZONE, hostnames: HOSTS, ...props });
  return { stack: ingress, loadBalancer, construct, template: Template.fromStack(ingress) };
}

/** The record sets of a template, by logical ID. */
function records(template: Template) {
  return Object.entries(template.findResources(RECORD)).map(([logicalId, resource]) => ({ logicalId, ...resource.Properties }));
}

describe('PlatformDns', () => {
  describe('with a zone of its own', () => {
    const { stack, loadBalancer, construct, template } = platformDns();
    const loadBalancerId = stack.getLogicalId(loadBalancer.node.defaultChild as CfnElement);

    test('creates one private hosted zone named zoneName, associated with the VPC in its region', () => {
      template.resourceCountIs('AWS::Route53::HostedZone', 1);
      template.hasResourceProperties('AWS::Route53::HostedZone', {
        Name: `${ZONE}.`,
        VPCs: [{ VPCId: stack.resolve(loadBalancer.vpc!.vpcId), VPCRegion: 'eu-west-1' }],
      });
    });

    test('points one A record per host name at the load balancer, as an alias of its dualstack name in its canonical zone', () => {
      const zoneId = stack.resolve(construct.hostedZone.hostedZoneId);
      expect(records(template).map((record) => record.Name).sort()).toEqual(HOSTS.map((host) => `${host}.`).sort());
      for (const record of records(template)) {
        expect(record).toMatchObject({
          Type: 'A',
          HostedZoneId: zoneId,
          AliasTarget: {
            DNSName: { 'Fn::Join': ['', ['dualstack.', { 'Fn::GetAtt': [loadBalancerId, 'DNSName'] }]] },
            HostedZoneId: { 'Fn::GetAtt': [loadBalancerId, 'CanonicalHostedZoneID'] },
          },
        });
        // An alias answers with the target's own TTL; Route 53 refuses a TTL on one.
        expect(record.TTL).toBeUndefined();
      }
    });

    test('keys each record by its host name, so adding a host leaves the logical IDs of the others alone', () => {
      const { template: more } = platformDns({ hostnames: [`aaa.models.${ZONE}`, ...HOSTS] });
      const ids = (of: Template) => Object.fromEntries(records(of).map((record) => [record.Name, record.logicalId]));
      expect(ids(more)).toEqual(expect.objectContaining(ids(template)));
    });

    test('writes one record for a host listed twice', () => {
      expect(records(platformDns({ hostnames: [HOSTS[0], HOSTS[0]] }).template)).toHaveLength(1);
    });
  });

  describe('with an existing zone', () => {
    const { construct, template } = platformDns({ hostedZoneId: IMPORTED_ZONE_ID });

    test('creates no zone and writes every record into the existing one', () => {
      template.resourceCountIs('AWS::Route53::HostedZone', 0);
      expect(construct.hostedZone.hostedZoneId).toBe(IMPORTED_ZONE_ID);
      expect(records(template).map((record) => [record.Name, record.HostedZoneId]).sort()).toEqual(HOSTS.map((host) => [`${host}.`, IMPORTED_ZONE_ID]).sort());
    });

    test('deletes its records when they leave the stack: none is retained in a zone the stack does not own', () => {
      for (const resource of Object.values(template.findResources(RECORD))) {
        expect(resource.DeletionPolicy).toBeUndefined();
      }
    });
  });

  test.each([
    ['in another domain', 'mlflow.staging.mlops.example.internal'],
    ['whose name only ends like the zone', `x${ZONE}`],
  ])('refuses a host name %s rather than write it under the zone', (_title, host) => {
    expect(() => platformDns({ hostnames: [HOSTS[0], host] })).toThrow(`hostnames must be inside zone ${ZONE}; ${host} are not`);
  });

  test('accepts a record at the zone apex', () => {
    expect(records(platformDns({ hostnames: [ZONE] }).template).map((record) => record.Name)).toEqual([`${ZONE}.`]);
  });

  test.each([
    ['a zone of its own', {}],
    ['an existing zone', { hostedZoneId: IMPORTED_ZONE_ID }],
  ])('passes cdk-nag and the Control Tower rules with no acknowledgment, with %s', (_title, props) => {
    const findings = policyFindings((app) => {
      const { ingress, loadBalancer } = targetGroupFixture(app);
      new PlatformDns(ingress, 'Dns', { vpc: loadBalancer.vpc!, loadBalancer, zoneName: ZONE, hostnames: HOSTS, ...props });
      return 'Ingress/Dns';
    });
    expect(findings).toEqual([]);
  });
});
