import * as logs from 'aws-cdk-lib/aws-logs';
import { Template } from 'aws-cdk-lib/assertions';
import { CONTAINER_INSIGHTS_ADDON } from '../../../lib/constructs/container-insights';
import { clusterStack } from '../../helpers/cluster-fixture';

type Resource = { Type: string; DependsOn?: string[]; Properties: Record<string, unknown> };

/** The resources of a cluster's stack with the given add-ons and a 30-day container log retention. */
function resourcesWith(addons: Record<string, string>): Record<string, Resource> {
  const { stack } = clusterStack({ clusterName: 'test', addons, containerLogRetention: logs.RetentionDays.ONE_MONTH });
  return Template.fromStack(stack).toJSON().Resources;
}

const idsOf = (resources: Record<string, Resource>, type: string) => Object.keys(resources).filter((id) => resources[id].Type === type);

describe('ContainerInsights', () => {
  const resources = resourcesWith({ 'metrics-server': 'v0.8.0-eksbuild.2', [CONTAINER_INSIGHTS_ADDON]: 'v6.6.0-eksbuild.1' });
  const addonId = idsOf(resources, 'AWS::EKS::Addon').find((id) => resources[id].Properties.AddonName === CONTAINER_INSIGHTS_ADDON) ?? '';
  const addon = resources[addonId];
  const association = (addon.Properties.PodIdentityAssociations as { ServiceAccount: string; RoleArn: { 'Fn::GetAtt': string[] } }[])[0];
  const roleId = association.RoleArn['Fn::GetAtt'][0];
  const logGroupIds = idsOf(resources, 'AWS::Logs::LogGroup').filter((id) =>
    String(resources[id].Properties.LogGroupName).startsWith('/aws/containerinsights/'),
  );

  test('installs the add-on at the pinned version with the agents service account associated to its role', () => {
    expect(addon.Properties).toMatchObject({ AddonName: CONTAINER_INSIGHTS_ADDON, AddonVersion: 'v6.6.0-eksbuild.1' });
    expect(addon.Properties.PodIdentityAssociations).toEqual([{ ServiceAccount: 'cloudwatch-agent', RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] } }]);
  });

  test('leaves the association to the add-on, so the service account has exactly one', () => {
    const standalone = idsOf(resources, 'AWS::EKS::PodIdentityAssociation').filter(
      (id) => resources[id].Properties.ServiceAccount === 'cloudwatch-agent',
    );
    expect(standalone).toEqual([]);
  });

  test('gives the role to Pod Identity for amazon-cloudwatch/cloudwatch-agent of this cluster only, with CloudWatchAgentServerPolicy', () => {
    const role = resources[roleId].Properties;
    expect((role.AssumeRolePolicyDocument as { Statement: unknown[] }).Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'pods.eks.amazonaws.com' },
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Condition: {
          StringEquals: {
            'aws:SourceAccount': '123456789012',
            'aws:RequestTag/kubernetes-namespace': 'amazon-cloudwatch',
            'aws:RequestTag/kubernetes-service-account': 'cloudwatch-agent',
          },
          ArnEquals: { 'aws:RequestTag/eks-cluster-arn': expect.anything() },
        },
      },
    ]);
    expect(JSON.stringify(role.ManagedPolicyArns)).toContain(':iam::aws:policy/CloudWatchAgentServerPolicy');
    expect(role.ManagedPolicyArns).toHaveLength(1);
  });

  test('creates the four log groups the agents write, with the configured retention and the cluster key', () => {
    const keyId = idsOf(resources, 'AWS::KMS::Key')[0];
    expect(logGroupIds.map((id) => resources[id].Properties).sort((a, b) => String(a.LogGroupName).localeCompare(String(b.LogGroupName)))).toEqual(
      ['application', 'dataplane', 'host', 'performance'].map((name) => ({
        LogGroupName: `/aws/containerinsights/test/${name}`,
        RetentionInDays: 30,
        KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      })),
    );
  });

  test('lets CloudWatch Logs use the key for each of the four log groups', () => {
    const statements = (resources[idsOf(resources, 'AWS::KMS::Key')[0]].Properties.KeyPolicy as { Statement: { Condition?: unknown }[] }).Statement;
    const contexts = JSON.stringify(statements.map((statement) => statement.Condition));
    for (const name of ['application', 'dataplane', 'host', 'performance']) {
      expect(contexts).toContain(`:log-group:/aws/containerinsights/test/${name}`);
    }
  });

  test('keeps the log groups when they leave the stack, unless told otherwise', () => {
    expect(logGroupIds.map((id) => (resources[id] as Resource & { DeletionPolicy?: string }).DeletionPolicy)).toEqual(['Retain', 'Retain', 'Retain', 'Retain']);
  });

  test('installs the add-on after its log groups, so the agents never create them without retention or key', () => {
    expect(logGroupIds).toHaveLength(4);
    expect(addon.DependsOn).toEqual(expect.arrayContaining(logGroupIds));
  });

  test('keeps the other add-ons as they were', () => {
    const others = idsOf(resources, 'AWS::EKS::Addon').filter((id) => id !== addonId);
    expect(others.map((id) => resources[id].Properties.AddonName)).toEqual(['metrics-server']);
    expect(resources[others[0]].Properties.PodIdentityAssociations).toBeUndefined();
  });
});

test('without amazon-cloudwatch-observability in the add-ons, creates no Container Insights role, log group or add-on', () => {
  const resources = resourcesWith({ 'metrics-server': 'v0.8.0-eksbuild.2' });
  const serialized = JSON.stringify(resources);
  expect(serialized).not.toContain('/aws/containerinsights/');
  expect(serialized).not.toContain('CloudWatchAgentServerPolicy');
  expect(idsOf(resources, 'AWS::EKS::Addon').map((id) => resources[id].Properties.AddonName)).toEqual(['metrics-server']);
});
