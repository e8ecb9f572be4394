import { chartTestApp } from '../helpers/chart-app';
import { ClusterConfigChart, ClusterConfigChartProps, ENFORCING_NODE_CLASS } from '../../charts/cluster-config-chart';
import { GENERAL_NODE_POOL } from '../../lib/config/platform-names';
import { findObject, KubeObject } from '../helpers/kube-objects';

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
};

function objects(props: Partial<ClusterConfigChartProps> = {}): KubeObject[] {
  return new ClusterConfigChart(chartTestApp(), 'test', { ...PROPS, ...props }).toJson();
}

describe('ClusterConfigChart', () => {
  test('renders as the snapshot', () => {
    expect(objects()).toMatchSnapshot();
  });

  test('switches on the VPC CNI network policy controller, without which no NetworkPolicy is enforced', () => {
    expect(findObject(objects(), 'ConfigMap')).toEqual(
      expect.objectContaining({
        metadata: expect.objectContaining({ name: 'amazon-vpc-cni', namespace: 'kube-system' }),
        data: { 'enable-network-policy-controller': 'true' },
      }),
    );
  });

  test('defines a NodeClass that enforces NetworkPolicies on the private subnets and the cluster security group', () => {
    expect(findObject(objects(), 'NodeClass')).toEqual(
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
    const pool = findObject(objects(), 'NodePool') as KubeObject & { spec: Record<string, never> };
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

  test('defines no IngressClass: the load balancer is built outside the cluster, so no tenant object can attach to it', () => {
    const kinds = objects().map((object) => object.kind);
    expect(kinds).not.toContain('IngressClass');
    expect(kinds).not.toContain('IngressClassParams');
  });
});
