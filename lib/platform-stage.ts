import { Stage, StageProps, Tags } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { modelNames } from './config/derived';
import { listenerRulePriorities } from './config/listener-priorities';
import { EnvironmentConfig } from './config/schema';
import { ClusterStack } from './stacks/cluster-stack';
import { DataStack } from './stacks/data-stack';
import { IngressStack } from './stacks/ingress-stack';
import { ModelStack } from './stacks/model-stack';
import { MonitoringStack } from './stacks/monitoring-stack';
import { MlflowStack } from './stacks/mlflow-stack';
import { NetworkStack } from './stacks/network-stack';
import { ServingStack } from './stacks/serving-stack';

/** Properties of a {@link PlatformStage}. */
export interface PlatformStageProps extends StageProps {
  /** The environment's validated config. */
  readonly config: EnvironmentConfig;
}

/** One environment of the platform, deployable on its own as `<environment>/*`. */
export class PlatformStage extends Stage {
  /** VPC of the environment. */
  public readonly network: NetworkStack;
  /** Database, artifact bucket and image repositories of the environment. */
  public readonly data: DataStack;
  /** EKS Auto Mode cluster of the environment. */
  public readonly cluster: ClusterStack;
  /** Shared load balancer and alarm topic of the environment. */
  public readonly ingress: IngressStack;
  /** MLflow tracking server of the environment. */
  public readonly mlflow: MlflowStack;
  /** GPU node pools and teams of the environment. */
  public readonly serving: ServingStack;
  /** One stack per served model, in config order. */
  public readonly models: ModelStack[];
  /** The serving dashboard of the environment. */
  public readonly monitoring: MonitoringStack;

  constructor(scope: Construct, id: string, props: PlatformStageProps) {
    const { config } = props;
    super(scope, id, { ...props, env: { account: config.account, region: config.region } });

    Tags.of(this).add('platform', 'mlops-platform');
    Tags.of(this).add('environment', config.name);
    for (const [key, value] of Object.entries(config.tags)) {
      Tags.of(this).add(key, value);
    }

    this.network = new NetworkStack(this, 'Network', {
      config,
      description: `MLOps platform ${config.name}: VPC, subnets, endpoints and flow logs`,
      terminationProtection: config.environmentType === 'production',
    });
    this.data = new DataStack(this, 'Data', {
      config,
      vpc: this.network.vpc,
      description: `MLOps platform ${config.name}: MLflow database, artifact bucket and image repositories`,
      terminationProtection: config.environmentType === 'production',
    });
    this.cluster = new ClusterStack(this, 'Cluster', {
      config,
      vpc: this.network.vpc,
      database: this.data.database,
      description: `MLOps platform ${config.name}: EKS Auto Mode cluster, add-ons, node pools and access`,
      terminationProtection: config.environmentType === 'production',
    });
    this.ingress = new IngressStack(this, 'Ingress', {
      config,
      vpc: this.network.vpc,
      description: `MLOps platform ${config.name}: shared load balancer, its access logs and the alarm topic`,
      terminationProtection: config.environmentType === 'production',
    });
    this.mlflow = new MlflowStack(this, 'Mlflow', {
      config,
      vpc: this.network.vpc,
      cluster: this.cluster.platformCluster,
      loadBalancer: this.ingress.loadBalancer,
      database: this.data.database,
      artifacts: this.data.artifacts,
      description: `MLOps platform ${config.name}: MLflow tracking server`,
      terminationProtection: config.environmentType === 'production',
    });
    this.serving = new ServingStack(this, 'Serving', {
      config,
      vpc: this.network.vpc,
      cluster: this.cluster.platformCluster,
      loadBalancer: this.ingress.loadBalancer,
      description: `MLOps platform ${config.name}: GPU node pools, team namespaces and access`,
      terminationProtection: config.environmentType === 'production',
    });
    const priorities = listenerRulePriorities(modelNames(config));
    this.models = config.teams.flatMap((team) =>
      team.models.map(
        (model) =>
          new ModelStack(this, `Model-${model.name}`, {
            config,
            model,
            namespace: this.serving.namespaces[team.name],
            gpuNodePools: this.serving.gpuNodePools,
            listenerPriority: priorities.get(model.name)!,
            vpc: this.network.vpc,
            cluster: this.cluster.platformCluster,
            loadBalancer: this.ingress.loadBalancer,
            alarmTopic: this.ingress.alarmTopic.topic,
            repositories: this.data.repositories,
            artifacts: this.data.artifacts,
            mlflowAccounts: this.mlflow.teamAccounts,
            description: `MLOps platform ${config.name}: model ${model.name} of team ${team.name}, its versions, routing and SLO alarms`,
            terminationProtection: config.environmentType === 'production',
          }),
      ),
    );
    this.monitoring = new MonitoringStack(this, 'Monitoring', {
      config,
      loadBalancer: this.ingress.loadBalancer,
      models: this.models,
      description: `MLOps platform ${config.name}: the serving dashboard`,
      terminationProtection: config.environmentType === 'production',
    });
  }
}
