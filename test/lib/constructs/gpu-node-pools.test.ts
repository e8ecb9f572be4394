import { Template } from 'aws-cdk-lib/assertions';
import { GpuPoolOptions } from '../../../charts/gpu-node-pools-chart';
import { GpuNodePools } from '../../../lib/constructs/gpu-node-pools';
import { appliedManifests } from '../../helpers/applied-manifests';
import { clusterStack } from '../../helpers/cluster-fixture';
import { KubeObject } from '../../helpers/kube-objects';

const POOL: GpuPoolOptions = {
  name: 'inference',
  instanceFamilies: ['g6'],
  capacityType: 'on-demand',
  gpuLimit: 4,
  cpuLimit: 64,
  consolidationPolicy: 'WhenEmpty',
  consolidateAfter: '5m',
  expireAfter: '336h',
  disruptionBudget: '1',
};

/** The template of a cluster stack with GPU node pools of the given profiles, and the pools' manifest. */
function withPools(pools: GpuPoolOptions[]) {
  const { stack, cluster } = clusterStack();
  new GpuNodePools(stack, 'GpuNodePools', { cluster, pools });
  const template = Template.fromStack(stack).toJSON();
  const manifests = appliedManifests(template);
  const isGpuPool = (object: unknown) => (object as KubeObject).metadata.name?.startsWith('gpu-') ?? false;
  return { template, manifests, poolManifest: manifests.find(({ object }) => isGpuPool(object))?.logicalId };
}

describe('GpuNodePools', () => {
  test('applies no manifest without GPU profiles, since kubectl refuses one without objects', () => {
    const { poolManifest, manifests } = withPools([]);
    expect(poolManifest).toBeUndefined();
    expect(manifests.every(({ logicalId }) => !logicalId.startsWith('GpuNodePools'))).toBe(true);
  });

  test("applies one NodePool per profile, under the construct's own logical ID, after the cluster-wide settings", () => {
    const { template, manifests, poolManifest } = withPools([POOL]);
    expect(poolManifest).toMatch(/^GpuNodePools[0-9A-F]{8}$/);
    const clusterConfig = manifests.find(({ object }) => (object as KubeObject).kind === 'NodeClass')?.logicalId;
    expect(template.Resources[poolManifest ?? ''].DependsOn).toEqual(expect.arrayContaining([clusterConfig]));
  });
});
