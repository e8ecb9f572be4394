import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { clusterName, statefulRemovalPolicy } from '../config/derived';
import { MlflowDatabase } from '../constructs/mlflow-database';
import { PlatformCluster } from '../constructs/platform-cluster';
import { PlatformStack, PlatformStackProps } from './platform-stack';

/** Properties of a {@link ClusterStack}. */
export interface ClusterStackProps extends PlatformStackProps {
  /** VPC from the network stack. */
  readonly vpc: ec2.IVpc;
  /** MLflow's database, which admits the cluster. */
  readonly database: MlflowDatabase;
}

/** The environment's EKS Auto Mode cluster, its add-ons, admins and cluster-wide settings. */
export class ClusterStack extends PlatformStack {
  /** The cluster with its node role and cluster-wide settings. */
  public readonly platformCluster: PlatformCluster;

  constructor(scope: Construct, id: string, props: ClusterStackProps) {
    super(scope, id, props);
    const { config } = props;
    const { cluster } = config;

    this.platformCluster = new PlatformCluster(this, 'Cluster', {
      vpc: props.vpc,
      clusterName: clusterName(config),
      kubernetesVersion: cluster.kubernetesVersion,
      publicAccessCidrs: cluster.publicAccessCidrs,
      adminPrincipalArns: cluster.admins,
      addons: cluster.addons,
      generalNodePool: cluster.nodePool,
      logRetention: cluster.logRetentionDays as logs.RetentionDays,
      containerLogRetention: cluster.containerLogRetentionDays as logs.RetentionDays,
      removalPolicy: statefulRemovalPolicy(config),
    });

    props.database.allowConnectionsFrom(
      this.platformCluster.cluster.clusterSecurityGroup,
      'EKS cluster security group (Auto Mode nodes and pods)',
    );
  }
}
