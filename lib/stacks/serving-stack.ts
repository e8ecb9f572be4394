import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { acknowledgeEmptyStack } from '../compliance';
import { ingressInboundCidrs, modelHostname, modelsCallableFrom, modelWorkers } from '../config/derived';
import { ArtifactBucket } from '../constructs/artifact-bucket';
import { GpuNodePools } from '../constructs/gpu-node-pools';
import { ImageRepositories } from '../constructs/image-repositories';
import { ModelService } from '../constructs/model-service';
import { PlatformCluster } from '../constructs/platform-cluster';
import { loadBalancerSubnetCidrs } from '../constructs/platform-vpc';
import { TeamNamespace } from '../constructs/team-namespace';
import { PlatformStack, PlatformStackProps } from './platform-stack';

/** Properties of a {@link ServingStack}. */
export interface ServingStackProps extends PlatformStackProps {
  /** VPC from the network stack. */
  readonly vpc: ec2.IVpc;
  /** Cluster from the cluster stack. */
  readonly cluster: PlatformCluster;
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

    const gpuNodePools = new GpuNodePools(this, 'GpuNodePools', { cluster, pools: config.gpuPools });

    for (const team of config.teams) {
      const namespace = new TeamNamespace(this, `Team-${team.name}`, {
        cluster: cluster.cluster,
        team: team.name,
        admins: team.admins,
        members: team.members,
        quota: team.quota,
        callableModels: modelsCallableFrom(config, team.name),
      });
      for (const model of team.models) {
        new ModelService(this, `Model-${model.name}`, {
          cluster,
          namespace,
          gpuNodePools,
          readPolicy: props.artifacts.modelReadPolicies[model.name],
          serving: {
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
          },
        });
      }
    }
    // A new environment has no team and no GPU pool yet, and this stack then holds nothing.
    acknowledgeEmptyStack(this);
  }
}
