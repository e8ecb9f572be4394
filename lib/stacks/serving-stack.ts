import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { SCORING_PORT } from '../../charts/model-serving-chart';
import { acknowledgeEmptyStack } from '../compliance';
import { modelAlarmNamePrefix } from '../config/alarm-names';
import { versionWeights } from '../config/capacity';
import { modelHostname, modelNames, modelsCallableFrom, modelWorkers, physicalName } from '../config/derived';
import { listenerRulePriorities } from '../config/listener-priorities';
import { ArtifactBucket } from '../constructs/artifact-bucket';
import { GpuNodePools } from '../constructs/gpu-node-pools';
import { ImageRepositories } from '../constructs/image-repositories';
import { LoadBalancerTargetAccess } from '../constructs/load-balancer-target-access';
import { ModelService } from '../constructs/model-service';
import { PlatformCluster } from '../constructs/platform-cluster';
import { PlatformLoadBalancer } from '../constructs/platform-load-balancer';
import { loadBalancerSubnetCidrs } from '../constructs/platform-vpc';
import { ServingDashboard, ServingDashboardModel } from '../constructs/serving-dashboard';
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
  /** Topic the models' alarms notify, from the ingress stack. */
  readonly alarmTopic: sns.ITopic;
  /** Repositories holding each model's serving image. */
  readonly repositories: ImageRepositories;
  /** Bucket whose per-model prefixes the models may read. */
  readonly artifacts: ArtifactBucket;
}

/** GPU node pools, team namespaces and access, one service per configured model, and the serving dashboard. */
export class ServingStack extends PlatformStack {
  constructor(scope: Construct, id: string, props: ServingStackProps) {
    super(scope, id, props);
    const { config, cluster } = props;

    const gpuNodePools = new GpuNodePools(this, 'GpuNodePools', { cluster, pools: config.gpuPools });
    const priorities = listenerRulePriorities(modelNames(config));
    const loadBalancerCidrs = loadBalancerSubnetCidrs(props.vpc, config.ingress.scheme);
    const dashboardModels: ServingDashboardModel[] = [];

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
        const service = new ModelService(this, `Model-${model.name}`, {
          cluster,
          namespace,
          gpuNodePools,
          readPolicy: props.artifacts.modelReadPolicies[model.name],
          vpc: props.vpc,
          loadBalancer: props.loadBalancer,
          hostname: modelHostname(config, model),
          listenerPriority: priorities.get(model.name)!,
          weights: versionWeights(model),
          stickiness: model.traffic.stickinessSeconds ? Duration.seconds(model.traffic.stickinessSeconds) : undefined,
          versionHeader: model.traffic.versionHeader,
          slo: model.slo,
          alarmTopic: props.alarmTopic,
          alarmNamePrefix: modelAlarmNamePrefix(config, model.name),
          serving: {
            team: team.name,
            model: model.name,
            registeredModel: model.registeredModel,
            versions: model.versions.map((version) => ({
              name: version.name,
              alias: version.alias,
              version: version.version,
              image: props.repositories.modelImageUri(model.name, version.imageTag),
              imageTag: version.imageTag,
              resources: version.resources,
              workers: modelWorkers(version),
              gpu: version.gpu,
              ...version.autoscaling,
              podRequestsPerSecond: version.podRequestsPerSecond,
              startupSeconds: version.startupSeconds,
            })),
            shadow: model.traffic.shadow,
            fallback: model.traffic.fallback,
            allowedNamespaces: model.exposure.allowedNamespaces,
            loadBalancerSubnetCidrs: loadBalancerCidrs,
          },
        });
        dashboardModels.push({
          name: model.name,
          namespace: team.name,
          gpu: model.versions.some((version) => version.gpu !== undefined),
          p95Milliseconds: model.slo.p95Milliseconds,
          p99Milliseconds: model.slo.p99Milliseconds,
          versions: model.versions.map((version) => ({
            name: version.name,
            targetGroup: service.targetGroups[version.name],
            deploymentName: `${model.name}-${version.name}`,
          })),
        });
      }
    }

    if (dashboardModels.length > 0) {
      // Every model's pods listen on the scoring port; one rule pair lets the load balancer reach them all.
      new LoadBalancerTargetAccess(this, 'LoadBalancerAccess', {
        loadBalancerSecurityGroup: props.loadBalancer.securityGroup,
        targetSecurityGroup: cluster.cluster.clusterSecurityGroup,
        port: SCORING_PORT,
        description: 'Model and router pods',
      });
      new ServingDashboard(this, 'Dashboard', {
        dashboardName: physicalName(config, 'serving'),
        clusterName: cluster.cluster.clusterName,
        models: dashboardModels,
      });
    }
    // A new environment has no team and no GPU pool yet, and this stack then holds nothing.
    acknowledgeEmptyStack(this);
  }
}
