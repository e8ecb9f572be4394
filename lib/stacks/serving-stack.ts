import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { GpuNodePoolsChart } from '../../charts/gpu-node-pools-chart';
import { ingressInboundCidrs, modelsCallableFrom, modelWorkers } from '../config/derived';
import { modelHostname } from '../config/schema';
import { ArtifactBucket } from '../constructs/artifact-bucket';
import { ImageRepositories } from '../constructs/image-repositories';
import { ModelService } from '../constructs/model-service';
import { loadBalancerSubnetCidrs } from '../constructs/platform-vpc';
import { TeamNamespace } from '../constructs/team-namespace';
import { PlatformStack, PlatformStackProps } from './platform-stack';

/** Properties of a {@link ServingStack}. */
export interface ServingStackProps extends PlatformStackProps {
  /** VPC from the network stack. */
  readonly vpc: ec2.IVpc;
  /** Cluster from the cluster stack. */
  readonly cluster: eks.ICluster;
  /** The cluster-wide settings (enforcing NodeClass, IngressClass) everything here builds on. */
  readonly clusterConfig: Construct;
  /** Repositories holding each model's serving image. */
  readonly repositories: ImageRepositories;
  /** Bucket whose per-model prefixes the models may read. */
  readonly artifacts: ArtifactBucket;
}

/** GPU node pools, team namespaces and access, and one service per configured model. */
export class ServingStack extends PlatformStack {
  constructor(scope: Construct, id: string, props: ServingStackProps) {
    super(scope, id, props);
    const { config, cluster } = props;

    // kubectl fails on a manifest without objects, so an environment without GPU pools applies none.
    const gpuPools: Construct[] = [];
    if (config.gpuPools.length > 0) {
      const manifest = new eks.KubernetesManifest(this, 'GpuNodePools', {
        cluster,
        manifest: new GpuNodePoolsChart(new cdk8s.App(), 'gpu-node-pools', { pools: config.gpuPools }).toJson(),
      });
      manifest.node.addDependency(props.clusterConfig);
      gpuPools.push(manifest);
    }

    for (const team of config.teams) {
      const namespace = new TeamNamespace(this, `Team-${team.name}`, {
        cluster,
        team: team.name,
        admins: team.admins,
        members: team.members,
        quota: team.quota,
        callableModels: modelsCallableFrom(config, team.name),
      });
      for (const model of team.models) {
        new ModelService(this, `Model-${model.name}`, {
          cluster,
          readPolicy: props.artifacts.modelReadPolicies[model.name],
          after: [namespace.manifest, ...gpuPools, props.clusterConfig],
          team: team.name,
          model: model.name,
          registeredModel: model.registeredModel,
          alias: model.alias,
          version: model.version,
          image: props.repositories.modelImageUri(model.name, model.imageTag),
          imageTag: model.imageTag,
          resources: model.resources,
          workers: modelWorkers(model),
          gpu: model.gpu,
          ...model.autoscaling,
          startupSeconds: model.startupSeconds,
          hostname: modelHostname(config, model),
          allowedNamespaces: model.exposure.allowedNamespaces,
          inboundCidrs: ingressInboundCidrs(config),
          loadBalancerSubnetCidrs: loadBalancerSubnetCidrs(props.vpc, config.ingress.scheme),
          https: config.ingress.certificateArn !== undefined,
        });
      }
    }
  }
}
