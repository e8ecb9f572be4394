import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { GpuNodePoolsChart, GpuPoolOptions } from '../../charts/gpu-node-pools-chart';
import { PlatformCluster } from './platform-cluster';
import { PlatformManifest } from './platform-manifest';

/** Properties of {@link GpuNodePools}. */
export interface GpuNodePoolsProps {
  /** Cluster the pools are applied to. */
  readonly cluster: PlatformCluster;
  /** The GPU profiles. @default - none */
  readonly pools?: GpuPoolOptions[];
}

/**
 * The {@link GpuNodePoolsChart} applied to the cluster. Without GPU profiles it applies nothing:
 * kubectl fails on a manifest without objects.
 */
export class GpuNodePools extends Construct {
  constructor(scope: Construct, id: string, props: GpuNodePoolsProps) {
    super(scope, id);
    const pools = props.pools ?? [];
    if (pools.length > 0) {
      // Id `Default` gives the manifest this construct's logical ID, the one it has always had.
      new PlatformManifest(this, 'Default', {
        cluster: props.cluster,
        chart: new GpuNodePoolsChart(new cdk8s.App(), 'gpu-node-pools', { pools }),
      });
    }
  }
}
