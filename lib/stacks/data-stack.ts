import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { databaseRemovalPolicy, modelNames, namePath, physicalName, statefulRemovalPolicy } from '../config/derived';
import { ArtifactBucket } from '../constructs/artifact-bucket';
import { ImageRepositories } from '../constructs/image-repositories';
import { MlflowDatabase } from '../constructs/mlflow-database';
import { PlatformStack, PlatformStackProps } from './platform-stack';

/** Properties of a {@link DataStack}. */
export interface DataStackProps extends PlatformStackProps {
  /** VPC from the network stack. */
  readonly vpc: ec2.IVpc;
}

/** The environment's stateful resources: MLflow's database and artifact bucket, and the image repositories. */
export class DataStack extends PlatformStack {
  /** MLflow's backend store. */
  public readonly database: MlflowDatabase;
  /** MLflow's artifact store. */
  public readonly artifacts: ArtifactBucket;
  /** ECR repositories of the models' images. */
  public readonly repositories: ImageRepositories;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { config } = props;
    const { database, artifacts, repositories } = config;

    this.database = new MlflowDatabase(this, 'MlflowDatabase', {
      vpc: props.vpc,
      instanceIdentifier: physicalName(config, 'mlflow'),
      credentialsSecretName: `${namePath(config)}/mlflow/database`,
      engineVersion: rds.PostgresEngineVersion.of(database.engineVersion, database.engineVersion),
      instanceType: new ec2.InstanceType(database.instanceType),
      allocatedStorageGiB: database.allocatedStorageGiB,
      maxAllocatedStorageGiB: database.maxAllocatedStorageGiB,
      multiAz: database.multiAz,
      backupRetention: Duration.days(database.backupRetentionDays),
      deletionProtection: database.deletionProtection,
      performanceInsightRetention: database.performanceInsightsRetentionDays,
      logRetention: database.logRetentionDays as logs.RetentionDays,
      preferredBackupWindow: database.backupWindow,
      preferredMaintenanceWindow: database.maintenanceWindow,
      removalPolicy: databaseRemovalPolicy(config),
    });

    this.artifacts = new ArtifactBucket(this, 'Artifacts', {
      noncurrentVersionExpiration: Duration.days(artifacts.noncurrentVersionExpirationDays),
      predictionsExpiration: Duration.days(artifacts.predictionsExpirationDays),
      abortIncompleteMultipartUploadAfter: Duration.days(artifacts.abortIncompleteMultipartUploadDays),
      accessLogRetention: Duration.days(artifacts.accessLogRetentionDays),
      removalPolicy: statefulRemovalPolicy(config),
      modelNames: modelNames(config),
    });

    this.repositories = new ImageRepositories(this, 'Repositories', {
      repositoryNamePrefix: namePath(config),
      modelNames: modelNames(config),
      maxImageCount: repositories.maxImageCount,
      untaggedImageExpiry: Duration.days(repositories.untaggedImageExpiryDays),
      removalPolicy: statefulRemovalPolicy(config),
    });
  }
}
