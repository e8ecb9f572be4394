import { chartTestApp } from '../helpers/chart-app';
import { ENFORCING_NODE_CLASS, GPU_RESOURCE, NODE_POOL_LABEL } from '../../charts/cluster-config-chart';
import { GpuNodePoolsChart, GpuPoolOptions } from '../../charts/gpu-node-pools-chart';
import { KubeObject, objectsOfKind } from '../helpers/kube-objects';

const POOL: GpuPoolOptions = {
  name: 'inference',
  instanceFamilies: ['g6', 'g5'],
  capacityType: 'on-demand',
  gpuLimit: 8,
  cpuLimit: 128,
  consolidationPolicy: 'WhenEmpty',
  consolidateAfter: '5m',
  expireAfter: '336h',
  disruptionBudget: '1',
};

interface NodePoolSpec {
  template: { metadata: { labels: Record<string, string> }; spec: { nodeClassRef: unknown; taints: unknown[]; requirements: { key: string; operator: string; values: string[] }[] } };
  limits: Record<string, string>;
  disruption: Record<string, unknown>;
}

const pools = (options: GpuPoolOptions[]) =>
  objectsOfKind<NodePoolSpec>(new GpuNodePoolsChart(chartTestApp(), 'gpu', { pools: options }).toJson() as KubeObject[], 'NodePool');

describe('GpuNodePoolsChart', () => {
  test('renders as the snapshot', () => {
    expect(pools([POOL, { ...POOL, name: 'training', capacityType: 'spot' }])).toMatchSnapshot();
  });

  const [pool] = pools([POOL]);

  test('makes one NodePool per GPU profile, none without profiles', () => {
    expect(pools([POOL, { ...POOL, name: 'training', capacityType: 'spot' }]).map((each) => each.metadata.name)).toEqual(['gpu-inference', 'gpu-training']);
    expect(pools([])).toEqual([]);
  });

  test('launches NVIDIA instances of the configured families and capacity type from the enforcing NodeClass', () => {
    expect(pool.spec.template.spec.nodeClassRef).toEqual({ group: 'eks.amazonaws.com', kind: 'NodeClass', name: ENFORCING_NODE_CLASS });
    expect(pool.spec.template.spec.requirements).toEqual(
      expect.arrayContaining([
        { key: 'eks.amazonaws.com/instance-gpu-manufacturer', operator: 'In', values: ['nvidia'] },
        { key: 'eks.amazonaws.com/instance-family', operator: 'In', values: ['g6', 'g5'] },
        { key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] },
      ]),
    );
  });

  test('taints its nodes for GPU pods only and labels them with the pool name for node selectors', () => {
    expect(pool.spec.template.spec.taints).toEqual([{ key: GPU_RESOURCE, effect: 'NoSchedule' }]);
    expect(pool.spec.template.metadata.labels).toEqual({ [NODE_POOL_LABEL]: 'inference' });
  });

  test('caps GPUs and CPUs, and consolidates idle nodes away so an idle pool costs nothing', () => {
    expect(pool.spec.limits).toEqual({ cpu: '128', [GPU_RESOURCE]: '8' });
    expect(pool.spec.disruption).toEqual({ consolidationPolicy: 'WhenEmpty', consolidateAfter: '5m', budgets: [{ nodes: '1' }] });
    expect(JSON.stringify(pool.spec)).not.toMatch(/min|replicas/i);
  });
});
