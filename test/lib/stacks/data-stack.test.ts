import { Match } from 'aws-cdk-lib/assertions';
import { ENVIRONMENTS } from '../../helpers/app';
import { committedConfig, committedStageFacts, committedTemplate } from '../../helpers/committed-assembly';

describe.each(ENVIRONMENTS)('%s data stack', (name) => {
  const config = committedConfig(name);
  const template = committedTemplate(name, 'Data');

  describe('database', () => {
    test('runs PostgreSQL of the configured major version and class', () => {
      template.hasResourceProperties('AWS::RDS::DBInstance', {
        Engine: 'postgres',
        EngineVersion: config.database.engineVersion,
        DBInstanceClass: `db.${config.database.instanceType}`,
        AutoMinorVersionUpgrade: true,
      });
    });

    test('lives in the isolated subnets and is not publicly accessible', () => {
      template.hasResourceProperties('AWS::RDS::DBInstance', { PubliclyAccessible: false });
      const subnetGroup = Object.values(template.findResources('AWS::RDS::DBSubnetGroup'))[0];
      const outputs = subnetGroup.Properties.SubnetIds.map(
        (id: { 'Fn::GetStackOutput': { OutputName: string } }) => id['Fn::GetStackOutput'].OutputName,
      );
      expect(outputs).toHaveLength(config.availabilityZones.length);
      for (const output of outputs) {
        expect(output).toMatch(/IsolatedSubnet/);
      }
    });

    test('encrypts storage and Performance Insights with its own rotating key', () => {
      const keyId = { 'Fn::GetAtt': [Match.stringLikeRegexp('^MlflowDatabaseKey'), 'Arn'] };
      template.hasResourceProperties('AWS::RDS::DBInstance', {
        StorageEncrypted: true,
        KmsKeyId: keyId,
        EnablePerformanceInsights: true,
        PerformanceInsightsKMSKeyId: keyId,
        PerformanceInsightsRetentionPeriod: config.database.performanceInsightsRetentionDays,
      });
      template.hasResourceProperties('AWS::KMS::Key', {
        Description: Match.stringLikeRegexp('MLflow database'),
        EnableKeyRotation: true,
      });
    });

    test('refuses connections without TLS', () => {
      template.hasResourceProperties('AWS::RDS::DBParameterGroup', {
        Family: `postgres${config.database.engineVersion}`,
        Parameters: { 'rds.force_ssl': '1' },
      });
    });

    test('generates its credentials into a KMS-encrypted secret and references them dynamically', () => {
      template.hasResourceProperties('AWS::SecretsManager::Secret', {
        Name: `mlops/${name}/mlflow/database`,
        GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password', SecretStringTemplate: '{"username":"mlflow"}' }),
        KmsKeyId: Match.anyValue(),
      });
      const instance = Object.values(template.findResources('AWS::RDS::DBInstance'))[0];
      expect(JSON.stringify(instance.Properties.MasterUserPassword)).toContain('{{resolve:secretsmanager:');
    });

    test('keeps backups for the configured days and follows the configured availability', () => {
      template.hasResourceProperties('AWS::RDS::DBInstance', {
        BackupRetentionPeriod: config.database.backupRetentionDays,
        MultiAZ: config.database.multiAz,
        DeletionProtection: config.database.deletionProtection,
        MonitoringInterval: 60,
        CACertificateIdentifier: 'rds-ca-rsa2048-g1',
      });
    });

    test('exports PostgreSQL logs into encrypted log groups it owns', () => {
      template.hasResourceProperties('AWS::RDS::DBInstance', { EnableCloudwatchLogsExports: ['postgresql', 'upgrade'] });
      for (const log of ['postgresql', 'upgrade']) {
        template.hasResourceProperties('AWS::Logs::LogGroup', {
          LogGroupName: `/aws/rds/instance/mlops-${name}-mlflow/${log}`,
          RetentionInDays: config.database.logRetentionDays,
          KmsKeyId: Match.anyValue(),
        });
      }
      const instance = Object.values(template.findResources('AWS::RDS::DBInstance'))[0];
      expect(instance.DependsOn).toEqual(
        expect.arrayContaining([expect.stringMatching(/^MlflowDatabasePostgresqlLogs/), expect.stringMatching(/^MlflowDatabaseUpgradeLogs/)]),
      );
    });

    test('admits nobody until a peer is allowed', () => {
      template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        GroupDescription: Match.stringLikeRegexp('MLflow database'),
        SecurityGroupIngress: Match.absent(),
      });
    });
  });

  describe('artifact bucket', () => {
    const artifactBucket = () =>
      Object.values(template.findResources('AWS::S3::Bucket')).find((bucket) => bucket.Properties.LoggingConfiguration)!;

    test('encrypts with its own KMS key and a bucket key', () => {
      expect(artifactBucket().Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: {
            SSEAlgorithm: 'aws:kms',
            KMSMasterKeyID: { 'Fn::GetAtt': [expect.stringMatching(/^ArtifactsKey/), 'Arn'] },
          },
        },
      ]);
    });

    test('is versioned and blocks all public access', () => {
      expect(artifactBucket().Properties).toMatchObject({
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      });
    });

    test('denies every request not made over TLS', () => {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: Match.stringLikeRegexp('^ArtifactsBucket') },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });

    test('logs server access to a separate, S3-encrypted bucket', () => {
      expect(artifactBucket().Properties.LoggingConfiguration).toEqual({
        DestinationBucketName: { Ref: expect.stringMatching(/^ArtifactsAccessLogs/) },
        LogFilePrefix: 'artifacts/',
      });
      template.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: config.artifacts.accessLogRetentionDays })] },
      });
    });

    test('expires noncurrent versions, predictions after their lifetime, and stale uploads', () => {
      expect(artifactBucket().Properties.LifecycleConfiguration.Rules).toEqual([
        {
          Id: 'expire-noncurrent-versions',
          Status: 'Enabled',
          NoncurrentVersionExpiration: { NoncurrentDays: config.artifacts.noncurrentVersionExpirationDays },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: config.artifacts.abortIncompleteMultipartUploadDays },
        },
        {
          Id: 'expire-predictions',
          Status: 'Enabled',
          Prefix: 'predictions/',
          ExpirationInDays: config.artifacts.predictionsExpirationDays,
          NoncurrentVersionExpiration: { NoncurrentDays: 1 },
        },
        { Id: 'remove-expired-delete-markers', Status: 'Enabled', ExpiredObjectDeleteMarker: true },
      ]);
    });

    test('publishes object events to EventBridge without a custom resource', () => {
      expect(artifactBucket().Properties.NotificationConfiguration).toEqual({ EventBridgeConfiguration: { EventBridgeEnabled: true } });
      template.resourceCountIs('Custom::S3BucketNotifications', 0);
    });

    test('offers a policy for the mlflow/ prefix alone: list it, read and write its objects, use the key through S3', () => {
      const policies = Object.entries(template.findResources('AWS::IAM::ManagedPolicy'))
        .filter(([id]) => id.startsWith('ArtifactsMlflowAccessPolicy'))
        .map(([, policy]) => policy);
      expect(policies).toHaveLength(1);
      const bucketArn = { 'Fn::GetAtt': [expect.stringMatching(/^ArtifactsBucket/), 'Arn'] };
      expect(policies[0].Properties.PolicyDocument.Statement).toEqual([
        { Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn, Condition: { StringLike: { 's3:prefix': ['mlflow/*'] } } },
        {
          Effect: 'Allow',
          Action: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'],
          Resource: { 'Fn::Join': ['', [bucketArn, '/mlflow/*']] },
        },
        {
          Effect: 'Allow',
          Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ArtifactsKey/), 'Arn'] },
          Condition: { StringEquals: { 'kms:ViaService': `s3.${config.region}.amazonaws.com` } },
        },
      ]);
    });
  });

  describe('image repositories', () => {
    test('scan every image on push, keep tags immutable and encrypt with the shared key', () => {
      for (const repository of Object.values(template.findResources('AWS::ECR::Repository'))) {
        expect(repository.Properties).toMatchObject({
          ImageScanningConfiguration: { ScanOnPush: true },
          ImageTagMutability: 'IMMUTABLE',
          EncryptionConfiguration: { EncryptionType: 'KMS', KmsKey: { 'Fn::GetAtt': [expect.stringMatching(/^RepositoriesKey/), 'Arn'] } },
        });
      }
    });

    test('expire untagged images and keep the configured number of tagged ones', () => {
      for (const repository of Object.values(template.findResources('AWS::ECR::Repository'))) {
        const rules = JSON.parse(repository.Properties.LifecyclePolicy.LifecyclePolicyText).rules;
        expect(rules).toEqual([
          expect.objectContaining({
            selection: expect.objectContaining({ tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: config.repositories.untaggedImageExpiryDays }),
          }),
          expect.objectContaining({
            selection: expect.objectContaining({ tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: config.repositories.maxImageCount }),
          }),
        ]);
      }
    });
  });
});

describe.each(ENVIRONMENTS)('%s per-model resources', (name) => {
  const config = committedConfig(name);
  const template = committedTemplate(name, 'Data');
  const models = config.teams.flatMap((team) => team.models.map((model) => model.name));

  test('every configured model gets its own repository, and nothing else gets one (the MLflow image is a CDK asset)', () => {
    for (const model of models) {
      template.hasResourceProperties('AWS::ECR::Repository', { RepositoryName: `mlops/${name}/models/${model}`, ImageTagMutability: 'IMMUTABLE' });
    }
    template.resourceCountIs('AWS::ECR::Repository', models.length);
  });

  test('every configured model gets a policy to list and read models/<model>/ only', () => {
    for (const model of models) {
      const policy = Object.entries(template.findResources('AWS::IAM::ManagedPolicy')).find(([id]) => id.startsWith(`ArtifactsModel${model.replace(/-/g, '')}ReadPolicy`))?.[1];
      expect(policy?.Properties.PolicyDocument.Statement).toEqual([
        expect.objectContaining({ Action: 's3:ListBucket', Condition: { StringLike: { 's3:prefix': [`models/${model}/*`] } } }),
        expect.objectContaining({ Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [expect.anything(), `/models/${model}/*`]] } }),
        expect.objectContaining({ Action: 'kms:Decrypt' }),
      ]);
    }
  });
});

describe.each(ENVIRONMENTS)('%s removal policies', (name) => {
  const stateful = ['AWS::RDS::DBInstance', 'AWS::S3::Bucket', 'AWS::ECR::Repository', 'AWS::KMS::Key', 'AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup'];
  const template = committedTemplate(name, 'Data');
  const production = committedConfig(name).environmentType === 'production';

  test('deletes stateful resources with the stack only in development; elsewhere retains them and snapshots the database', () => {
    for (const type of stateful) {
      const expected = !production ? 'Delete' : type === 'AWS::RDS::DBInstance' ? 'Snapshot' : 'Retain';
      for (const resource of Object.values(template.findResources(type))) {
        expect({ type, policy: resource.DeletionPolicy, replace: resource.UpdateReplacePolicy }).toEqual({ type, policy: expected, replace: expected });
      }
    }
  });

  test('empties buckets and repositories before deleting them, only in development', () => {
    template.resourceCountIs('Custom::S3AutoDeleteObjects', production ? 0 : 2);
    for (const repository of Object.values(template.findResources('AWS::ECR::Repository'))) {
      expect(repository.Properties.EmptyOnDelete).toBe(!production);
    }
  });

  test('deletion-protects the database and keeps its automated backups outside development', () => {
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      DeleteAutomatedBackups: !production,
      ...(production ? { DeletionProtection: true } : {}),
    });
  });

  test('the Network and Data stacks have termination protection outside development', () => {
    const { stacks } = committedStageFacts(name);
    expect([stacks.Network.terminationProtection, stacks.Data.terminationProtection]).toEqual([production, production]);
  });
});
