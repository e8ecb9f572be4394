import * as fs from 'node:fs';
import * as path from 'node:path';
import { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { parse } from 'yaml';
import { KEDA_CHART_DIRECTORY, KEDA_NAMESPACE, KEDA_OPERATOR_SERVICE_ACCOUNT } from '../../../lib/constructs/keda';
import { appliedManifests } from '../../helpers/applied-manifests';
import { clusterStack } from '../../helpers/cluster-fixture';
import { KubeObject } from '../../helpers/kube-objects';
import { validateKubernetesObjects } from '../../helpers/kubernetes-schema';

type Resource = { Type: string; DependsOn?: string[]; Properties: Record<string, unknown> };

/** A resolved value with each `Ref` replaced by the value `refs` gives, and Fn::Split, Fn::Select and Fn::Join applied. */
function evaluate(value: unknown, refs: Record<string, string>): unknown {
  if (typeof value !== 'object' || value === null) {
    return value;
  }
  const node = value as Record<string, unknown[] | string>;
  if (typeof node.Ref === 'string') {
    return refs[node.Ref];
  }
  if (Array.isArray(node['Fn::Split'])) {
    const [separator, text] = node['Fn::Split'];
    return String(evaluate(text, refs)).split(String(separator));
  }
  if (Array.isArray(node['Fn::Select'])) {
    const [index, list] = node['Fn::Select'];
    return (evaluate(list, refs) as unknown[])[Number(index)];
  }
  if (Array.isArray(node['Fn::Join'])) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => evaluate(part, refs)).join(separator);
  }
  return Object.fromEntries(Object.entries(node).map(([key, field]) => [key, evaluate(field, refs)]));
}

describe('the vendored KEDA chart', () => {
  const chart = parse(fs.readFileSync(path.join(KEDA_CHART_DIRECTORY, 'Chart.yaml'), 'utf8'));

  test('is kedacore/charts keda 2.20.2, installing KEDA 2.20.2, as charts/helm/README.md records', () => {
    expect(chart).toMatchObject({ name: 'keda', version: '2.20.2', appVersion: '2.20.2' });
    const readme = fs.readFileSync(path.join(KEDA_CHART_DIRECTORY, '..', 'README.md'), 'utf8');
    expect(readme).toContain(`| keda | ${chart.version} |`);
  });

  test('needs no other chart, so the asset alone installs it', () => {
    expect(chart.dependencies ?? []).toEqual([]);
    expect(fs.existsSync(path.join(KEDA_CHART_DIRECTORY, 'charts'))).toBe(false);
  });

  test('runs its operator as the service account the Pod Identity association names', () => {
    const values = parse(fs.readFileSync(path.join(KEDA_CHART_DIRECTORY, 'values.yaml'), 'utf8'));
    expect(values.serviceAccount.operator).toMatchObject({ create: true, name: KEDA_OPERATOR_SERVICE_ACCOUNT });
    const deployment = fs.readFileSync(path.join(KEDA_CHART_DIRECTORY, 'templates', 'manager', 'deployment.yaml'), 'utf8');
    expect(deployment).toContain('serviceAccountName: {{ (.Values.serviceAccount.operator).name');
  });
});

describe('Keda', () => {
  const { stack, vpc, cluster } = clusterStack();
  const resources: Record<string, Resource> = Template.fromStack(stack).toJSON().Resources;
  const logicalIds = (type: string) => Object.keys(resources).filter((id) => resources[id].Type === type);
  const association = logicalIds('AWS::EKS::PodIdentityAssociation').find(
    (id) => resources[id].Properties.Namespace === KEDA_NAMESPACE && resources[id].Properties.ServiceAccount === KEDA_OPERATOR_SERVICE_ACCOUNT,
  );
  const roleId = ((resources[association ?? '']?.Properties.RoleArn ?? {}) as { 'Fn::GetAtt'?: string[] })['Fn::GetAtt']?.[0] ?? '';
  const policies = logicalIds('AWS::IAM::Policy').filter((id) => JSON.stringify(resources[id].Properties.Roles).includes(roleId));
  const helmChart = logicalIds('Custom::AWSCDK-EKS-HelmChart')[0];
  const authentication = appliedManifests(Template.fromStack(stack).toJSON()).filter(
    ({ object }) => (object as KubeObject).kind === 'ClusterTriggerAuthentication',
  );

  test("associates a role with the operator's service account, trusted by Pod Identity for that account alone", () => {
    expect(association).toBeDefined();
    expect(resources[association ?? ''].Properties.ClusterName).toBeDefined();
    expect(JSON.stringify(resources[roleId].Properties.AssumeRolePolicyDocument)).toContain(
      `"aws:RequestTag/kubernetes-namespace":"${KEDA_NAMESPACE}","aws:RequestTag/kubernetes-service-account":"${KEDA_OPERATOR_SERVICE_ACCOUNT}"`,
    );
  });

  test('lets the operator read CloudWatch metric data and nothing else', () => {
    expect(policies.flatMap((id) => (resources[id].Properties.PolicyDocument as { Statement: unknown[] }).Statement)).toEqual([
      { Effect: 'Allow', Action: 'cloudwatch:GetMetricData', Resource: '*' },
    ]);
    expect(resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
    expect(resources[roleId].Properties.Policies).toBeUndefined();
  });

  test('installs the chart after the association and its policy, so the operator pods start with credentials', () => {
    expect(resources[helmChart].DependsOn).toEqual(expect.arrayContaining([association, ...policies]));
  });

  test('applies one ClusterTriggerAuthentication, after the chart that installs its CRD', () => {
    expect(authentication.map(({ object }) => object)).toEqual([
      expect.objectContaining({ kind: 'ClusterTriggerAuthentication', metadata: expect.objectContaining({ name: cluster.keda.cloudWatchAuthenticationName }) }),
    ]);
    expect(() => validateKubernetesObjects(authentication.map(({ object }) => object))).not.toThrow();
    expect(resources[authentication[0].logicalId].DependsOn).toContain(helmChart);
  });

  test("gives a target group's request-rate trigger its load balancer, region and the cluster-wide authentication", () => {
    const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'LoadBalancer', { vpc });
    const targetGroup = new elbv2.ApplicationTargetGroup(stack, 'TargetGroup', { vpc, port: 8080, targetType: elbv2.TargetType.IP });
    loadBalancer.addListener('Listener', { port: 80, defaultTargetGroups: [targetGroup] });
    const trigger = cluster.keda.requestRateTrigger(targetGroup, loadBalancer, 200);
    // The load balancer's own full name, not one cut out of a listener's ARN.
    expect(stack.resolve(trigger.loadBalancerFullName)).toEqual(stack.resolve(loadBalancer.loadBalancerFullName));
    expect(stack.resolve(trigger)).toMatchObject({
      targetGroupFullName: stack.resolve(targetGroup.targetGroupFullName),
      region: 'eu-west-1',
      podRequestsPerSecond: 200,
      authenticationName: 'aws-cloudwatch',
    });
  });
});
