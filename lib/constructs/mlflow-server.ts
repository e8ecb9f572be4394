import * as path from 'node:path';
import { CfnOutput, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import {
  MLFLOW_MIGRATION_SERVICE_ACCOUNT,
  MLFLOW_NAMESPACE,
  MLFLOW_SERVER_SERVICE_ACCOUNT,
  MlflowChart,
} from '../../charts/mlflow-chart';
import { ArtifactBucket, MLFLOW_ARTIFACTS_PREFIX } from './artifact-bucket';
import { EncryptionKey } from './encryption-key';
import { MlflowDatabase, POSTGRES_PORT } from './mlflow-database';
import { loadBalancerSubnetCidrs } from './platform-vpc';
import { PodIdentityRole } from './pod-identity-role';

/** Folder of the server image's Dockerfile. */
export const MLFLOW_IMAGE_DIRECTORY = path.join(__dirname, '..', '..', 'images', 'mlflow');

/** Properties of an {@link MlflowServer}. */
export interface MlflowServerProps {
  /** Cluster the server runs on. */
  readonly cluster: eks.ICluster;
  /** Manifest the server's objects must follow (the cluster-wide settings). */
  readonly clusterConfig: Construct;
  /** MLflow's backend store. */
  readonly database: MlflowDatabase;
  /** MLflow's artifact store. */
  readonly artifacts: ArtifactBucket;
  /** VPC, whose isolated subnets hold the database and whose load balancer subnets may call the server. */
  readonly vpc: ec2.IVpc;
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
  /** Scheme of the load balancer; decides which subnets it sits in. @default 'internal' */
  readonly ingressScheme?: 'internal' | 'internet-facing';
  /** CIDRs allowed to reach the load balancer. */
  readonly inboundCidrs: string[];
  /** Whether the load balancer serves HTTPS. @default false */
  readonly https?: boolean;
  /** What happens to the generated secrets and their key when they leave the stack. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The MLflow tracking server on the cluster: its image, generated secrets, one Pod Identity role
 * for the server and one for the schema migration, and the {@link MlflowChart} applied to the
 * cluster. No credential reaches a template or manifest: pods read the secrets at run time.
 */
export class MlflowServer extends Construct {
  /** The URL users set as `MLFLOW_TRACKING_URI`. */
  public readonly url: string;
  /** Secret of the initial `admin` user. */
  public readonly adminSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: MlflowServerProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const { database, artifacts } = props;

    const key = new EncryptionKey(this, 'Key', {
      description: `Encrypts the MLflow server secrets under ${props.secretNamePrefix}`,
      removalPolicy,
    });
    const userSecret = (secretId: string, name: string, username: string, description: string) =>
      new secretsmanager.Secret(this, secretId, {
        secretName: `${props.secretNamePrefix}/${name}`,
        description,
        encryptionKey: key,
        removalPolicy,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ username }),
          generateStringKey: 'password',
          passwordLength: 32,
          excludePunctuation: true,
        },
      });
    const appUserSecret = userSecret(
      'DatabaseAppSecret',
      'database-app',
      'mlflow_app',
      'PostgreSQL login of the MLflow server; the migration Job sets it on the database',
    );
    this.adminSecret = userSecret(
      'AdminSecret',
      'admin',
      'admin',
      'Initial password of the MLflow basic-auth admin; seeds the first start only',
    );
    const flaskSecretKey = new secretsmanager.Secret(this, 'FlaskSecretKey', {
      secretName: `${props.secretNamePrefix}/flask-secret-key`,
      description: 'Signs the MLflow basic-auth sessions and CSRF tokens',
      encryptionKey: key,
      removalPolicy,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });

    // Built by `cdk deploy` on a machine with Docker; synth only stages the folder.
    const image = new ecrAssets.DockerImageAsset(this, 'Image', {
      directory: MLFLOW_IMAGE_DIRECTORY,
      platform: ecrAssets.Platform.LINUX_AMD64,
    });

    const serverIdentity = new PodIdentityRole(this, 'ServerRole', {
      cluster: props.cluster,
      namespace: MLFLOW_NAMESPACE,
      serviceAccount: MLFLOW_SERVER_SERVICE_ACCOUNT,
      description: 'MLflow tracking server: its artifact prefix, its key and its three secrets',
    });
    const server = serverIdentity.role;
    server.addManagedPolicy(artifacts.mlflowAccessPolicy);
    grantSecretRead(server, [appUserSecret, this.adminSecret, flaskSecretKey], key);

    const migrationIdentity = new PodIdentityRole(this, 'MigrationRole', {
      cluster: props.cluster,
      namespace: MLFLOW_NAMESPACE,
      serviceAccount: MLFLOW_MIGRATION_SERVICE_ACCOUNT,
      description: 'MLflow schema migration: the database master secret and the app user secret',
    });
    const migration = migrationIdentity.role;
    grantSecretRead(migration, [appUserSecret], key);
    grantSecretRead(migration, [database.secret], database.key);

    const vpc = props.vpc;
    const chart = new MlflowChart(new cdk8s.App(), 'mlflow', {
      image: image.imageUri,
      resolve: (value) => Stack.of(this).resolve(value),
      region: Stack.of(this).region,
      databaseHost: database.instance.dbInstanceEndpointAddress,
      databasePort: POSTGRES_PORT,
      databaseSubnetCidrs: vpc.isolatedSubnets.map((subnet) => subnet.ipv4CidrBlock),
      secrets: {
        databaseMasterSecretArn: database.secret.secretArn,
        databaseAppSecretArn: appUserSecret.secretArn,
        flaskSecretKeyArn: flaskSecretKey.secretArn,
        adminSecretArn: this.adminSecret.secretArn,
      },
      artifactsDestination: `s3://${artifacts.bucket.bucketName}/${MLFLOW_ARTIFACTS_PREFIX.replace(/\/$/, '')}`,
      hostname: props.hostname,
      replicas: props.replicas,
      workers: props.workers,
      cpuMillicores: props.cpuMillicores,
      memoryMiB: props.memoryMiB,
      inboundCidrs: props.inboundCidrs,
      loadBalancerSubnetCidrs: loadBalancerSubnetCidrs(vpc, props.ingressScheme),
      https: props.https,
    });
    // Created here rather than with cluster.addCdk8sChart, which would put it in the cluster's stack.
    const manifest = new eks.KubernetesManifest(this, 'Chart', { cluster: props.cluster, manifest: chart.toJson() });
    manifest.node.addDependency(props.clusterConfig);
    // Pods get Pod Identity credentials only if the association exists when they are admitted.
    manifest.node.addDependency(serverIdentity, migrationIdentity);

    for (const secret of [appUserSecret, this.adminSecret, flaskSecretKey]) {
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions::AwsSolutions-SMG4',
        reason:
          'Pods read these secrets when they start, so unattended rotation would break running servers; rotation is an operator runbook (update the secret, re-run the migration Job, restart the server).',
      });
    }

    this.url = `${props.https ? 'https' : 'http'}://${props.hostname}`;
    new CfnOutput(this, 'Url', { value: this.url, description: 'Set MLFLOW_TRACKING_URI to this' });
    new CfnOutput(this, 'AdminSecretName', {
      value: `${props.secretNamePrefix}/admin`,
      description: 'Secrets Manager secret with the initial MLflow admin user name and password',
    });
  }
}

/**
 * Lets `role` read `secrets`, encrypted with `key`, through identity statements only.
 * `Secret.grantRead` would also edit the key policy, and for the database's key that would make
 * the stateful stack depend on this one.
 */
function grantSecretRead(role: iam.IRole, secrets: secretsmanager.ISecret[], key: kms.IKey): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      resources: secrets.map((secret) => secret.secretArn),
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['kms:Decrypt'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(role).region}.amazonaws.com` } },
    }),
  );
}
