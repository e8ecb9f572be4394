import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { ModelServingChart, ModelServingChartProps } from '../../charts/model-serving-chart';
import { PodIdentityRole } from './pod-identity-role';

/** Properties of a {@link ModelService}. */
export interface ModelServiceProps extends ModelServingChartProps {
  /** Cluster the model runs on. */
  readonly cluster: eks.ICluster;
  /** Policy letting the model read its own artifact prefix. */
  readonly readPolicy: iam.IManagedPolicy;
  /** Manifests the model's objects need first: its namespace, its node pool. @default - none */
  readonly after?: Construct[];
}

/**
 * One served model: the {@link ModelServingChart} applied to the cluster, and the Pod Identity
 * role of its service account, which may read the model's own artifact prefix and nothing else.
 */
export class ModelService extends Construct {
  constructor(scope: Construct, id: string, props: ModelServiceProps) {
    super(scope, id);
    const { cluster, readPolicy, after, ...chartProps } = props;
    const identity = new PodIdentityRole(this, 'Role', {
      cluster,
      namespace: props.team,
      serviceAccount: props.model,
      description: `Model ${props.model} of team ${props.team}: reads its own artifact prefix`,
    });
    identity.role.addManagedPolicy(readPolicy);

    const manifest = new eks.KubernetesManifest(this, 'Chart', {
      cluster,
      manifest: new ModelServingChart(new cdk8s.App(), props.model, chartProps).toJson(),
    });
    // Pods get Pod Identity credentials only if the association exists when they are admitted.
    manifest.node.addDependency(identity);
    for (const dependency of after ?? []) {
      manifest.node.addDependency(dependency);
    }
  }
}
