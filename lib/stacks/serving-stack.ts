import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { SCORING_PORT } from '../../charts/model-serving-chart';
import { acknowledgeEmptyStack } from '../compliance';
import { modelsCallableFrom } from '../config/derived';
import { GpuNodePools } from '../constructs/gpu-node-pools';
import { LoadBalancerTargetAccess } from '../constructs/load-balancer-target-access';
import { PlatformCluster } from '../constructs/platform-cluster';
import { PlatformLoadBalancer } from '../constructs/platform-load-balancer';
import { podHttpsEgressCidrs } from '../constructs/platform-vpc';
import { TeamNamespace } from '../constructs/team-namespace';
import { PlatformStack, PlatformStackProps } from './platform-stack';

/** Properties of a {@link ServingStack}. */
export interface ServingStackProps extends PlatformStackProps {
  /** VPC from the network stack. */
  readonly vpc: ec2.IVpc;
  /** Cluster from the cluster stack. */
  readonly cluster: PlatformCluster;
  /** Shared load balancer from the ingress stack. */
  readonly loadBalancer: PlatformLoadBalancer;
}

/**
 * What the models share: GPU node pools, team namespaces and access, and the load balancer's way
 * to the pods' scoring port. Each model is a stack of its own ({@link ModelStack}).
 */
export class ServingStack extends PlatformStack {
  /** The GPU node pools; models are applied after them. */
  public readonly gpuNodePools: GpuNodePools;
  /** Each team's namespace, by team name. */
  public readonly namespaces: Record<string, TeamNamespace> = {};

  constructor(scope: Construct, id: string, props: ServingStackProps) {
    super(scope, id, props);
    const { config, cluster } = props;

    this.gpuNodePools = new GpuNodePools(this, 'GpuNodePools', { cluster, pools: config.gpuPools });

    for (const team of config.teams) {
      this.namespaces[team.name] = new TeamNamespace(this, `Team-${team.name}`, {
        cluster: cluster.cluster,
        team: team.name,
        admins: team.admins,
        members: team.members,
        quota: team.quota,
        callableModels: modelsCallableFrom(config, team.name),
        awsApiCidrs: podHttpsEgressCidrs(props.vpc, config.network.podHttpsEgress),
      });
    }

    if (config.teams.some((team) => team.models.length > 0)) {
      // Every model version and router listens on the scoring port; one rule pair lets the load balancer reach them all.
      new LoadBalancerTargetAccess(this, 'LoadBalancerAccess', {
        loadBalancerSecurityGroup: props.loadBalancer.securityGroup,
        targetSecurityGroup: cluster.cluster.clusterSecurityGroup,
        port: SCORING_PORT,
        description: 'Model and router pods',
      });
    }
    // A new environment has no team and no GPU pool yet, and this stack then holds nothing.
    acknowledgeEmptyStack(this);
  }
}
