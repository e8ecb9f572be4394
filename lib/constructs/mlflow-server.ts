import * as path from 'node:path';
import { CfnOutput, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { MLFLOW_MIGRATION_SERVICE_ACCOUNT, MLFLOW_PORT, MLFLOW_SERVER_SERVICE_ACCOUNT, MlflowChart } from '../../charts/mlflow-chart';
import { MLFLOW_RULE_PRIORITY } from '../config/listener-priorities';
import { MLFLOW_NAMESPACE } from '../config/platform-names';
import { ArtifactBucket, MLFLOW_ARTIFACTS_PREFIX } from './artifact-bucket';
import { MlflowDatabase, POSTGRES_PORT } from './mlflow-database';
import { MlflowSecrets } from './mlflow-secrets';
import { PlatformCluster } from './platform-cluster';
import { PlatformManifest } from './platform-manifest';
import { SUBNET_GROUPS } from './platform-vpc';
import { LoadBalancerTargetAccess } from './load-balancer-target-access';
import { ModelRouting } from './model-routing';
import { PlatformLoadBalancer } from './platform-load-balancer';
import { PodIdentityRole } from './pod-identity-role';

/** Folder of the server image's Dockerfile. */
export const MLFLOW_IMAGE_DIRECTORY = path.join(__dirname, '..', '..', 'images', 'mlflow');

/** Properties of an {@link MlflowServer}. */
export interface MlflowServerProps {
  /** Cluster the server runs on. */
  readonly cluster: PlatformCluster;
  /** MLflow's backend store. */
  readonly database: MlflowDatabase;
  /** MLflow's artifact store. */
  readonly artifacts: ArtifactBucket;
  /** VPC, whose isolated subnet group holds the database. */
  readonly vpc: ec2.IVpc;
  /** The shared load balancer the server is reached through, at `hostname`. */
  readonly loadBalancer: PlatformLoadBalancer;
  /** CIDRs of the load balancer's subnets, the only addresses outside the cluster the pods admit. */
  readonly loadBalancerSubnetCidrs: string[];
  /** CIDRs where the pods reach AWS APIs over HTTPS: the interface endpoints' subnets, or 0.0.0.0/0 where they go through NAT. */
  readonly awsApiCidrs: string[];
  /** Path prefix of the generated secrets' names, e.g. `mlops/prod/mlflow`. */
  readonly secretNamePrefix: string;
  /** Host name users reach the server at. */
  readonly hostname: string;
  /** Server pods. @default 2 */
  readonly replicas?: number;
  /** Worker processes per pod. @default 2 */
  readonly workers?: number;
  /** CPU request per pod in millicores. @default 500 */
  readonly cpuMillicores?: number;
  /** Memory per pod in MiB. @default 2048 */
  readonly memoryMiB?: number;
  /** Whether the load balancer serves HTTPS (its URL's scheme). @default false */
  readonly https?: boolean;
  /** What happens to the generated secrets and their key when they leave the stack. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The MLflow tracking server on the cluster: its {@link MlflowSecrets}, its image, one Pod
 * Identity role for the server and one for the schema migration, a target group and host rule on
 * the shared load balancer, and the {@link MlflowChart} applied to the cluster, whose
 * TargetGroupBinding puts the server's pods in that target group. No credential reaches a template or manifest: pods read the secrets at
 * run time.
 */
export class MlflowServer extends Construct {
  /** The URL users set as `MLFLOW_TRACKING_URI`. */
  public readonly url: string;
  /** The server's generated secrets. */
  public readonly secrets: MlflowSecrets;
  /** The server's image, which also runs the user sync and the credentials init step of team jobs. */
  public readonly image: ecrAssets.DockerImageAsset;
  /** The manifest of the MLflow chart: its namespace, server and migration. */
  public readonly manifest: PlatformManifest;
  /** CIDRs where pods of the MLflow namespace reach AWS APIs over HTTPS. */
  public readonly awsApiCidrs: string[];

  constructor(scope: Construct, id: string, props: MlflowServerProps) {
    super(scope, id);
    const { database, artifacts, vpc } = props;
    this.awsApiCidrs = props.awsApiCidrs;

    // Id `Default` leaves the secrets and their key at the logical IDs they had as children of
    // this construct: new IDs would replace them, and with them their values.
    this.secrets = new MlflowSecrets(this, 'Default', { secretNamePrefix: props.secretNamePrefix, removalPolicy: props.removalPolicy });
    const { key } = this.secrets;

    // Built by `cdk deploy` on a machine with Docker; synth only stages the folder.
    this.image = new ecrAssets.DockerImageAsset(this, 'Image', {
      directory: MLFLOW_IMAGE_DIRECTORY,
      platform: ecrAssets.Platform.LINUX_AMD64,
    });

    const server = new PodIdentityRole(this, 'ServerRole', {
      cluster: props.cluster.cluster,
      namespace: MLFLOW_NAMESPACE,
      serviceAccount: MLFLOW_SERVER_SERVICE_ACCOUNT,
      description: 'MLflow tracking server: its artifact prefix, its key and its three secrets',
    });
    server.role.addManagedPolicy(artifacts.mlflowAccessPolicy);
    server.grantSecretsRead(this.secrets.all, key);

    const migration = new PodIdentityRole(this, 'MigrationRole', {
      cluster: props.cluster.cluster,
      namespace: MLFLOW_NAMESPACE,
      serviceAccount: MLFLOW_MIGRATION_SERVICE_ACCOUNT,
      description: 'MLflow schema migration: the database master secret and the app user secret',
    });
    migration.grantSecretsRead([this.secrets.databaseApp], key);
    migration.grantSecretsRead([database.secret], database.key);

    const routing = new ModelRouting(this, 'Routing', {
      listener: props.loadBalancer.listener,
      vpc,
      clusterName: props.cluster.cluster.clusterName,
      hostname: props.hostname,
      priority: MLFLOW_RULE_PRIORITY,
      versions: [{ name: 'server', weight: 100 }],
      port: MLFLOW_PORT,
      healthCheckPath: '/health',
    });
    new LoadBalancerTargetAccess(this, 'LoadBalancerAccess', {
      loadBalancerSecurityGroup: props.loadBalancer.securityGroup,
      targetSecurityGroup: props.cluster.cluster.clusterSecurityGroup,
      port: MLFLOW_PORT,
      description: 'MLflow tracking server pods',
    });

    const chart = new MlflowChart(new cdk8s.App(), 'mlflow', {
      image: this.image.imageUri,
      resolve: (value) => Stack.of(this).resolve(value),
      region: Stack.of(this).region,
      databaseHost: database.instance.dbInstanceEndpointAddress,
      databasePort: POSTGRES_PORT,
      databaseName: database.databaseName,
      databaseSubnetCidrs: vpc.selectSubnets({ subnetGroupName: SUBNET_GROUPS.isolated }).subnets.map((subnet) => subnet.ipv4CidrBlock),
      secrets: {
        databaseMasterSecretArn: database.secret.secretArn,
        databaseAppSecretArn: this.secrets.databaseApp.secretArn,
        flaskSecretKeyArn: this.secrets.flaskSecretKey.secretArn,
        adminSecretArn: this.secrets.admin.secretArn,
      },
      artifactsDestination: `s3://${artifacts.bucket.bucketName}/${MLFLOW_ARTIFACTS_PREFIX.replace(/\/$/, '')}`,
      hostname: props.hostname,
      replicas: props.replicas,
      workers: props.workers,
      cpuMillicores: props.cpuMillicores,
      memoryMiB: props.memoryMiB,
      targetGroupArn: routing.targetGroups.server.targetGroupArn,
      loadBalancerSubnetCidrs: props.loadBalancerSubnetCidrs,
      awsApiCidrs: props.awsApiCidrs,
    });
    this.manifest = new PlatformManifest(this, 'Chart', { cluster: props.cluster, chart });
    // Pods get Pod Identity credentials only if the association exists when they are admitted.
    this.manifest.node.addDependency(server, migration);

    this.url = `${props.https ? 'https' : 'http'}://${props.hostname}`;
    new CfnOutput(this, 'Url', { value: this.url, description: 'Set MLFLOW_TRACKING_URI to this' });
    new CfnOutput(this, 'AdminSecretName', {
      value: `${props.secretNamePrefix}/admin`,
      description: 'Secrets Manager secret with the initial MLflow admin user name and password',
    });
  }
}
