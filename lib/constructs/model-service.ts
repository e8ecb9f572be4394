import * as iam from 'aws-cdk-lib/aws-iam';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { ModelServingChart, ModelServingChartProps } from '../../charts/model-serving-chart';
import { GpuNodePools } from './gpu-node-pools';
import { PlatformCluster } from './platform-cluster';
import { PlatformManifest } from './platform-manifest';
import { PodIdentityRole } from './pod-identity-role';
import { TeamNamespace } from './team-namespace';

/** Properties of a {@link ModelService}. */
export interface ModelServiceProps {
  /** Cluster the model runs on. */
  readonly cluster: PlatformCluster;
  /** Namespace of the model's team (`serving.team`); the model's objects are applied after it. */
  readonly namespace: TeamNamespace;
  /** GPU node pools, applied before the model's objects. @default - none */
  readonly gpuNodePools?: GpuNodePools;
  /** Policy letting the model read its own artifact prefix. */
  readonly readPolicy: iam.IManagedPolicy;
  /** What the {@link ModelServingChart} renders: image, resources, autoscaling, route and callers. */
  readonly serving: ModelServingChartProps;
}

/**
 * One served model: the {@link ModelServingChart} applied to the cluster, and the Pod Identity
 * role of its service account, which may read the model's own artifact prefix and nothing else.
 */
export class ModelService extends Construct {
  constructor(scope: Construct, id: string, props: ModelServiceProps) {
    super(scope, id);
    const { team, model } = props.serving;
    const identity = new PodIdentityRole(this, 'Role', {
      cluster: props.cluster.cluster,
      namespace: team,
      serviceAccount: model,
      description: `Model ${model} of team ${team}: reads its own artifact prefix`,
    });
    identity.role.addManagedPolicy(props.readPolicy);

    const manifest = new PlatformManifest(this, 'Chart', {
      cluster: props.cluster,
      chart: new ModelServingChart(new cdk8s.App(), model, props.serving),
    });
    // Pods get Pod Identity credentials only if the association exists when they are admitted;
    // the ScaledObject needs KEDA's CRDs and admission webhooks.
    manifest.node.addDependency(identity, props.namespace.manifest, props.cluster.keda);
    if (props.gpuNodePools) {
      manifest.node.addDependency(props.gpuNodePools);
    }
  }
}
