import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { PlatformCluster } from './platform-cluster';

/** Properties of a {@link PlatformManifest}. */
export interface PlatformManifestProps {
  /** Cluster the chart is applied to. */
  readonly cluster: PlatformCluster;
  /** The chart whose objects are applied. */
  readonly chart: cdk8s.Chart;
}

/**
 * A cdk8s chart applied to a platform cluster from any stack, after the cluster-wide settings
 * (the enforcing NodeClass, the general NodePool, the IngressClass) that every workload builds
 * on. `Cluster.addCdk8sChart` would put the manifest in the cluster's stack.
 */
export class PlatformManifest extends eks.KubernetesManifest {
  constructor(scope: Construct, id: string, props: PlatformManifestProps) {
    super(scope, id, { cluster: props.cluster.cluster, manifest: props.chart.toJson() });
    this.node.addDependency(props.cluster.clusterConfig);
  }
}
