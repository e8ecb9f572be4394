import { Testing } from 'cdk8s';
import {
  ClusterConfigChart,
  ClusterConfigChartProps,
  ENFORCING_NODE_CLASS,
  GENERAL_NODE_POOL,
  PLATFORM_INGRESS_CLASS,
} from '../../charts/cluster-config-chart';

const PROPS: ClusterConfigChartProps = {
  nodeRoleName: 'node-role',
  nodeSubnetIds: ['subnet-a', 'subnet-b'],
  nodeSecurityGroupIds: ['sg-cluster'],
  generalNodePool: {
    cpuLimit: 64,
    memoryLimitGiB: 256,
    capacityTypes: ['on-demand'],
    instanceCategories: ['c', 'm', 'r'],
    minInstanceGeneration: 5,
    consolidationPolicy: 'WhenEmptyOrUnderutilized',
    consolidateAfter: '1m',
    expireAfter: '336h',
    disruptionBudget: '10%',
  },
  ingressGroupName: 'mlops-test-cluster',
};

type KubeObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [key: string]: unknown };

function objects(props: Partial<ClusterConfigChartProps> = {}): KubeObject[] {
  return new ClusterConfigChart(Testing.app(), 'test', { ...PROPS, ...props }).toJson();
}

function find(list: KubeObject[], kind: string): KubeObject {
  const found = list.find((object) => object.kind === kind);
  if (!found) {
    throw new Error(`no ${kind}`);
  }
  return found;
}

describe('ClusterConfigChart', () => {
  test('renders as the snapshot', () => {
    expect(objects()).toMatchSnapshot();
  });

  test('switches on the VPC CNI network policy controller, without which no NetworkPolicy is enforced', () => {
    expect(find(objects(), 'ConfigMap')).toEqual(
      expect.objectContaining({
        metadata: expect.objectContaining({ name: 'amazon-vpc-cni', namespace: 'kube-system' }),
        data: { 'enable-network-policy-controller': 'true' },
      }),
    );
  });

  test('defines a NodeClass that enforces NetworkPolicies on the private subnets and the cluster security group', () => {
    expect(find(objects(), 'NodeClass')).toEqual(
      expect.objectContaining({
        apiVersion: 'eks.amazonaws.com/v1',
        metadata: { name: ENFORCING_NODE_CLASS },
        spec: expect.objectContaining({
          role: 'node-role',
          networkPolicy: 'DefaultAllow',
          networkPolicyEventLogs: 'Enabled',
          subnetSelectorTerms: [{ id: 'subnet-a' }, { id: 'subnet-b' }],
          securityGroupSelectorTerms: [{ id: 'sg-cluster' }],
        }),
      }),
    );
  });

  test('puts the general-purpose NodePool on the enforcing NodeClass with limits and disruption settings from config', () => {
    const pool = find(objects(), 'NodePool') as KubeObject & { spec: Record<string, never> };
    expect(pool.metadata.name).toBe(GENERAL_NODE_POOL);
    expect(pool.spec).toEqual(
      expect.objectContaining({
        limits: { cpu: '64', memory: '256Gi' },
        disruption: { consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '1m', budgets: [{ nodes: '10%' }] },
      }),
    );
    expect(pool.spec).toHaveProperty('template.spec.nodeClassRef', { group: 'eks.amazonaws.com', kind: 'NodeClass', name: ENFORCING_NODE_CLASS });
    expect(pool.spec).toHaveProperty('template.spec.expireAfter', '336h');
    expect(pool.spec).toHaveProperty(
      'template.spec.requirements',
      expect.arrayContaining([
        { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
        { key: 'eks.amazonaws.com/instance-generation', operator: 'Gt', values: ['4'] },
      ]),
    );
  });

  test('shares one internal load balancer between every Ingress of the platform class', () => {
    const list = objects();
    expect(find(list, 'IngressClass')).toHaveProperty('spec', {
      controller: 'eks.amazonaws.com/alb',
      parameters: { apiGroup: 'eks.amazonaws.com', kind: 'IngressClassParams', name: PLATFORM_INGRESS_CLASS },
    });
    expect(find(list, 'IngressClassParams')).toHaveProperty('spec.scheme', 'internal');
    expect(find(list, 'IngressClassParams')).toHaveProperty('spec.group', { name: 'mlops-test-cluster' });
    expect(find(list, 'IngressClassParams')).not.toHaveProperty('spec.certificateARNs');
  });

  test('serves HTTPS with the configured certificate', () => {
    const arn = 'arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-4000-8000-000000000000';
    expect(find(objects({ certificateArn: arn }), 'IngressClassParams')).toHaveProperty('spec.certificateARNs', [arn]);
  });
});
