import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { EncryptedLogGroup } from './encrypted-log-group';
import { EncryptionKey } from './encryption-key';
import { SUBNET_GROUPS } from './platform-vpc';

/** PostgreSQL's port, set literally so that security group rules name it rather than a token. */
export const POSTGRES_PORT = 5432;

/** PostgreSQL logs exported to CloudWatch Logs. */
const EXPORTED_LOGS = ['postgresql', 'upgrade'];

/** Properties of an {@link MlflowDatabase}. */
export interface MlflowDatabaseProps {
  /** VPC whose `Isolated` subnet group ({@link SUBNET_GROUPS}) holds the database. */
  readonly vpc: ec2.IVpc;
  /** DB instance identifier; also names the exported log groups. */
  readonly instanceIdentifier: string;
  /** Name of the Secrets Manager secret that receives the generated credentials. */
  readonly credentialsSecretName: string;
  /** PostgreSQL major version; RDS applies minor upgrades, and raising it upgrades the instance in place. @default PostgresEngineVersion.VER_17 */
  readonly engineVersion?: rds.PostgresEngineVersion;
  /** Instance class. @default t4g.medium */
  readonly instanceType?: ec2.InstanceType;
  /** Initial storage in GiB. @default 20 */
  readonly allocatedStorageGiB?: number;
  /** Storage autoscaling ceiling in GiB. @default 100 */
  readonly maxAllocatedStorageGiB?: number;
  /** Keep a synchronous standby in another zone. @default true */
  readonly multiAz?: boolean;
  /** How long automated backups (and point-in-time recovery) reach back. @default Duration.days(14) */
  readonly backupRetention?: Duration;
  /** Refuse to delete the instance. @default true */
  readonly deletionProtection?: boolean;
  /** Performance Insights history. @default PerformanceInsightRetention.DEFAULT (7 days) */
  readonly performanceInsightRetention?: rds.PerformanceInsightRetention;
  /** Days to keep exported PostgreSQL logs. @default RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** Daily backup window, UTC. @default - chosen by RDS */
  readonly preferredBackupWindow?: string;
  /** Weekly maintenance window, UTC. @default - chosen by RDS */
  readonly preferredMaintenanceWindow?: string;
  /** Name of the database created for MLflow's tracking data. @default 'mlflow' */
  readonly databaseName?: string;
  /** What happens to the instance, key and logs when they leave the stack. @default RemovalPolicy.SNAPSHOT */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * MLflow's backend store: RDS PostgreSQL in isolated subnets, encrypted with its own key,
 * TLS-only, with generated credentials in Secrets Manager and a security group that admits
 * nobody until {@link allowConnectionsFrom} names a peer.
 */
export class MlflowDatabase extends Construct {
  /** The DB instance. */
  public readonly instance: rds.DatabaseInstance;
  /** Secret holding host, port, username and password; read at run time, never rendered. */
  public readonly secret: rds.DatabaseSecret;
  /** Key encrypting storage, snapshots, logs, Performance Insights and the secret. */
  public readonly key: EncryptionKey;
  /** Name of the database created for MLflow's tracking data. */
  public readonly databaseName: string;

  constructor(scope: Construct, id: string, props: MlflowDatabaseProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.SNAPSHOT;
    const keyAndLogRemovalPolicy = removalPolicy === RemovalPolicy.DESTROY ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    this.databaseName = props.databaseName ?? 'mlflow';

    this.key = new EncryptionKey(this, 'Key', {
      description: `Encrypts the MLflow database ${props.instanceIdentifier}`,
      removalPolicy: keyAndLogRemovalPolicy,
    });

    const engine = rds.DatabaseInstanceEngine.postgres({
      version: props.engineVersion ?? rds.PostgresEngineVersion.VER_17,
    });
    // No fixed name: a new major version changes the group's family, which CloudFormation can only
    // create anew, so the new group must exist beside the old one until the instance moves to it.
    const parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: `TLS-only parameters for ${props.instanceIdentifier}`,
      parameters: { 'rds.force_ssl': '1' },
    });

    // RDS would create these groups itself, unencrypted and kept forever; creating them
    // first lets the stack own their key and retention.
    const logGroups = EXPORTED_LOGS.map(
      (log) =>
        new EncryptedLogGroup(this, `${log[0].toUpperCase()}${log.slice(1)}Logs`, {
          encryptionKey: this.key,
          logGroupName: `/aws/rds/instance/${props.instanceIdentifier}/${log}`,
          retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
          removalPolicy: keyAndLogRemovalPolicy,
        }),
    );

    this.secret = new rds.DatabaseSecret(this, 'Secret', {
      username: 'mlflow',
      secretName: props.credentialsSecretName,
      encryptionKey: this.key,
    });
    this.secret.applyRemovalPolicy(keyAndLogRemovalPolicy);

    this.instance = new rds.DatabaseInstance(this, 'Instance', {
      engine,
      instanceIdentifier: props.instanceIdentifier,
      instanceType: props.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
      vpc: props.vpc,
      // By name: the load-balancer subnets are isolated too, and the database must never move into them.
      vpcSubnets: { subnetGroupName: SUBNET_GROUPS.isolated },
      publiclyAccessible: false,
      securityGroups: [
        new ec2.SecurityGroup(this, 'SecurityGroup', {
          vpc: props.vpc,
          description: `MLflow database ${props.instanceIdentifier}: admits only peers named by allowConnectionsFrom`,
          allowAllOutbound: false,
        }),
      ],
      credentials: rds.Credentials.fromSecret(this.secret),
      databaseName: this.databaseName,
      port: POSTGRES_PORT,
      parameterGroup,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      storageEncrypted: true,
      storageEncryptionKey: this.key,
      storageType: rds.StorageType.GP3,
      allocatedStorage: props.allocatedStorageGiB ?? 20,
      maxAllocatedStorage: props.maxAllocatedStorageGiB ?? 100,
      multiAz: props.multiAz ?? true,
      backupRetention: props.backupRetention ?? Duration.days(14),
      preferredBackupWindow: props.preferredBackupWindow,
      preferredMaintenanceWindow: props.preferredMaintenanceWindow,
      deleteAutomatedBackups: removalPolicy === RemovalPolicy.DESTROY,
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy,
      autoMinorVersionUpgrade: true,
      // A changed major version in config is a reviewed upgrade: without this RDS refuses the
      // modification. RDS never starts a major upgrade on its own (docs/runbooks/upgrade-database.md).
      allowMajorVersionUpgrade: true,
      monitoringInterval: Duration.seconds(60),
      enablePerformanceInsights: true,
      performanceInsightEncryptionKey: this.key,
      performanceInsightRetention: props.performanceInsightRetention ?? rds.PerformanceInsightRetention.DEFAULT,
      cloudwatchLogsExports: EXPORTED_LOGS,
      copyTagsToSnapshot: true,
    });
    for (const logGroup of logGroups) {
      this.instance.node.addDependency(logGroup);
    }
    this.acknowledgeFindings(props);
  }

  private acknowledgeFindings(props: MlflowDatabaseProps): void {
    Validations.of(this.instance).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-RDS11',
        reason: 'MLflow and libpq expect 5432; a non-default port hides nothing, since the security group admits only named peers.',
      },
      {
        id: 'cdk-validator-cfnguard::rds_instance_iam_authentication_enabled_check',
        reason:
          'Every login is a password user whose secret Secrets Manager holds (the master for the migration Job, mlflow_app for the server) and no role is granted rds_iam, so IAM authentication would only be an unused way in.',
      },
      {
        id: 'cdk-validator-cfnguard::rds_instance_no_default_ports_check',
        reason: 'MLflow and libpq expect 5432; a non-default port hides nothing, since the security group admits only named peers.',
      },
      {
        id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
        reason: 'The AWS-managed enhanced monitoring policy only lets RDS write OS metrics to its own RDSOSMetrics log group.',
      },
    );
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SMG4',
      reason:
        'Only the MLflow migration Job reads the master password (the server logs in as its own user); automatic rotation needs a rotation Lambda placed in the VPC with a path to the database, not built yet, so rotation is an operator runbook (docs/runbooks/rotate-credentials.md).',
    });
    if (props.multiAz === false) {
      const reason = 'database.multiAz is false in this environment\'s config to save cost; its data is not production data.';
      Validations.of(this.instance).acknowledge(
        { id: 'AwsSolutions::AwsSolutions-RDS3', reason },
        { id: 'cdk-validator-cfnguard::rds_instance_multi_az_support_check', reason },
      );
    }
    if (props.deletionProtection === false) {
      const reason = 'Deletion protection is off by config, which the schema allows only in development environments.';
      Validations.of(this.instance).acknowledge(
        { id: 'AwsSolutions::AwsSolutions-RDS10', reason },
        { id: 'cdk-validator-cfnguard::rds_instance_deletion_protection_enabled_check', reason },
      );
    }
    if ((props.backupRetention ?? Duration.days(14)).toDays() < 7) {
      Validations.of(this.instance).acknowledge({
        id: 'cdk-validator-cfnguard::rds_instance_backup_enabled_check',
        reason: 'Backups are kept under 7 days by config, which the schema allows only in development environments.',
      });
    }
  }

  /**
   * Admits `peer` to PostgreSQL's port; the only way into the database. Asked from the peer's
   * side so that a rule naming a peer in another stack lands in that stack: the stateful stack
   * never depends on the stacks that use it.
   */
  public allowConnectionsFrom(peer: ec2.IConnectable, description: string): void {
    peer.connections.allowTo(this.instance, ec2.Port.tcp(POSTGRES_PORT), description);
  }
}
