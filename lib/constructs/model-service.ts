import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { MODEL_ROUTER_IMAGE_DIRECTORY } from '../../charts/lib/model-router';
import { ModelServingChart, ModelServingChartProps, ModelVersionServing, SCORING_PORT } from '../../charts/model-serving-chart';
import { hasRouter } from '../config/router-sizing';
import { GpuNodePools } from './gpu-node-pools';
import { ModelRouting } from './model-routing';
import { ModelSloAlarms } from './model-slo-alarms';
import { PlatformCluster } from './platform-cluster';
import { PlatformLoadBalancer } from './platform-load-balancer';
import { PlatformManifest } from './platform-manifest';
import { PodIdentityRole } from './pod-identity-role';
import { TeamNamespace } from './team-namespace';

/** One version as config gives it: what its pods run, and the requests one pod sustains. */
export type ModelVersionSettings = Omit<ModelVersionServing, 'targetGroupArn' | 'requestRate'> & {
  /** Requests per second one pod sustains within the SLO; the request-rate autoscaler aims below it. */
  readonly podRequestsPerSecond: number;
};

/** Latency and error targets every version alarms on. */
export interface ModelSlo {
  /** Target 95th percentile response time, in milliseconds. */
  readonly p95Milliseconds: number;
  /** Target 99th percentile response time, in milliseconds. */
  readonly p99Milliseconds: number;
  /** Highest share of 5XX answers, in percent. */
  readonly errorRatioPercent: number;
}

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
  /** VPC the target groups are in. */
  readonly vpc: ec2.IVpc;
  /** Shared load balancer whose listener routes the model's host. */
  readonly loadBalancer: PlatformLoadBalancer;
  /** Host name clients call the model at. */
  readonly hostname: string;
  /** First of the block of 10 listener rule priorities the model's rules take. */
  readonly listenerPriority: number;
  /** Each version's share of the requests, in percent. */
  readonly weights: Record<string, number>;
  /** Keep a caller on the version it first got for this long (A/B tests). @default - no stickiness */
  readonly stickiness?: Duration;
  /** Header whose value pins a request to the version it names. @default - none */
  readonly versionHeader?: string;
  /** Latency and error targets. */
  readonly slo: ModelSlo;
  /** Topic the model's alarms notify. */
  readonly alarmTopic: sns.ITopic;
  /** Prefix of the model's alarm names, e.g. `mlops-prod-fraud-scorer`. */
  readonly alarmNamePrefix: string;
  /** What the {@link ModelServingChart} renders, per version as config gives it. */
  readonly serving: Omit<ModelServingChartProps, 'versions' | 'routerImage'> & { readonly versions: ModelVersionSettings[] };
}

/**
 * One served model: a target group per version on the shared load balancer with the model's host
 * rules ({@link ModelRouting}), the {@link ModelServingChart} that binds each version's pods to its
 * target group and scales them on the requests it receives, SLO alarms per version
 * ({@link ModelSloAlarms}), and the Pod Identity role of the model's service account, which may
 * read the model's own artifact prefix and nothing else.
 */
export class ModelService extends Construct {
  /** Each version's target group, by version name. */
  public readonly targetGroups: Record<string, elbv2.ApplicationTargetGroup>;

  constructor(scope: Construct, id: string, props: ModelServiceProps) {
    super(scope, id);
    const { team, model, versions } = props.serving;
    const identity = new PodIdentityRole(this, 'Role', {
      cluster: props.cluster.cluster,
      namespace: team,
      serviceAccount: model,
      description: `Model ${model} of team ${team}: reads its own artifact prefix`,
    });
    identity.role.addManagedPolicy(props.readPolicy);

    const routing = new ModelRouting(this, 'Routing', {
      listener: props.loadBalancer.listener,
      vpc: props.vpc,
      clusterName: props.cluster.cluster.clusterName,
      hostname: props.hostname,
      priority: props.listenerPriority,
      versions: versions.map((version) => ({ name: version.name, weight: props.weights[version.name] ?? 0 })),
      port: SCORING_PORT,
      healthCheckPath: '/ping',
      stickiness: props.stickiness,
      versionHeader: props.versionHeader,
    });
    this.targetGroups = routing.targetGroups;

    // Built by `cdk deploy` on a machine with Docker, like MLflow's; synth only stages the folder.
    const routerImage = hasRouter(props.serving)
      ? new ecrAssets.DockerImageAsset(this, 'RouterImage', { directory: MODEL_ROUTER_IMAGE_DIRECTORY, platform: ecrAssets.Platform.LINUX_AMD64 })
      : undefined;

    const chart = new ModelServingChart(new cdk8s.App(), model, {
      ...props.serving,
      routerImage: routerImage?.imageUri,
      versions: versions.map(({ podRequestsPerSecond, ...version }) => ({
        ...version,
        targetGroupArn: this.targetGroups[version.name].targetGroupArn,
        requestRate: props.cluster.keda.requestRateTrigger(this.targetGroups[version.name], props.loadBalancer.loadBalancer, podRequestsPerSecond),
      })),
    });
    const manifest = new PlatformManifest(this, 'Chart', { cluster: props.cluster, chart });
    // Pods get Pod Identity credentials only if the association exists when they are admitted;
    // the ScaledObjects need KEDA's CRDs, admission webhooks and CloudWatch authentication.
    manifest.node.addDependency(identity, props.namespace.manifest, props.cluster.keda);
    if (props.gpuNodePools) {
      manifest.node.addDependency(props.gpuNodePools);
    }

    new ModelSloAlarms(this, 'Alarms', {
      model,
      versions: versions.map((version) => ({ name: version.name, targetGroup: this.targetGroups[version.name] })),
      loadBalancerFullName: props.loadBalancer.loadBalancer.loadBalancerFullName,
      ...props.slo,
      topic: props.alarmTopic,
      alarmNamePrefix: props.alarmNamePrefix,
    });
  }
}
