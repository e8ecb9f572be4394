import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { namePath, statefulRemovalPolicy } from '../config/derived';
import { ArtifactBucket } from '../constructs/artifact-bucket';
import { MlflowDatabase } from '../constructs/mlflow-database';
import { MlflowServer } from '../constructs/mlflow-server';
import { MlflowTeamAccounts } from '../constructs/mlflow-team-accounts';
import { PlatformCluster } from '../constructs/platform-cluster';
import { PlatformLoadBalancer } from '../constructs/platform-load-balancer';
import { loadBalancerSubnetCidrs, podHttpsEgressCidrs } from '../constructs/platform-vpc';
import { PlatformStack, PlatformStackProps } from './platform-stack';

/** Properties of an {@link MlflowStack}. */
export interface MlflowStackProps extends PlatformStackProps {
  /** VPC from the network stack. */
  readonly vpc: ec2.IVpc;
  /** Cluster from the cluster stack. */
  readonly cluster: PlatformCluster;
  /** Shared load balancer from the ingress stack. */
  readonly loadBalancer: PlatformLoadBalancer;
  /** MLflow's backend store. */
  readonly database: MlflowDatabase;
  /** MLflow's artifact store. */
  readonly artifacts: ArtifactBucket;
}

/** The MLflow tracking server on the environment's cluster, and its teams' users. */
export class MlflowStack extends PlatformStack {
  /** The tracking server. */
  public readonly server: MlflowServer;
  /** One MLflow user per team, for its jobs. */
  public readonly teamAccounts: MlflowTeamAccounts;

  constructor(scope: Construct, id: string, props: MlflowStackProps) {
    super(scope, id, props);
    const { config } = props;
    const { mlflow, ingress } = config;

    this.server = new MlflowServer(this, 'Mlflow', {
      cluster: props.cluster,
      database: props.database,
      artifacts: props.artifacts,
      vpc: props.vpc,
      loadBalancer: props.loadBalancer,
      loadBalancerSubnetCidrs: loadBalancerSubnetCidrs(props.vpc, ingress.scheme),
      awsApiCidrs: podHttpsEgressCidrs(props.vpc, config.network.podHttpsEgress),
      secretNamePrefix: `${namePath(config)}/mlflow`,
      hostname: mlflow.hostname,
      replicas: mlflow.replicas,
      workers: mlflow.workers,
      cpuMillicores: mlflow.cpuMillicores,
      memoryMiB: mlflow.memoryMiB,
      https: ingress.certificateArn !== undefined,
      removalPolicy: statefulRemovalPolicy(config),
    });
    this.teamAccounts = new MlflowTeamAccounts(this, 'TeamAccounts', {
      cluster: props.cluster,
      server: this.server,
      secretNamePrefix: `${namePath(config)}/mlflow`,
      teams: config.teams,
    });
  }
}
