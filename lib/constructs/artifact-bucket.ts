import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from '../compliance';
import { EncryptionKey } from './encryption-key';

/** Prefix under which batch inference results are written; they expire after `predictionsExpiration`. */
export const PREDICTIONS_PREFIX = 'predictions/';

/** Key prefix of MLflow's run and model artifacts; the tracking server may touch nothing else. */
export const MLFLOW_ARTIFACTS_PREFIX = 'mlflow/';

/** Properties of an {@link ArtifactBucket}. */
export interface ArtifactBucketProps {
  /** How long overwritten or deleted object versions are kept. @default Duration.days(30) */
  readonly noncurrentVersionExpiration?: Duration;
  /** How long batch inference results under `predictions/` live. @default Duration.days(3) */
  readonly predictionsExpiration?: Duration;
  /** When unfinished multipart uploads are aborted. @default Duration.days(7) */
  readonly abortIncompleteMultipartUploadAfter?: Duration;
  /** How long server access logs are kept. @default Duration.days(365) */
  readonly accessLogRetention?: Duration;
  /** What happens to the buckets and key when they leave the stack; DESTROY also empties the buckets. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** Models that get a read-only policy for their own prefix, {@link modelArtifactsPrefix}, and one for their batch results. @default - none */
  readonly modelNames?: string[];
}

/** Key prefix of one model's batch inference results, `predictions/<model>/`, under {@link PREDICTIONS_PREFIX}. */
export function modelPredictionsPrefix(model: string): string {
  return `${PREDICTIONS_PREFIX}${model}/`;
}

/** Key prefix a served model may read (reference data, thresholds), and nothing else. */
export function modelArtifactsPrefix(model: string): string {
  return `models/${model}/`;
}

/**
 * MLflow's artifact store: a versioned, KMS-encrypted, TLS-only bucket with no public access,
 * whose server access logs go to a separate bucket.
 */
export class ArtifactBucket extends Construct {
  /** The artifact bucket. */
  public readonly bucket: s3.Bucket;
  /** Key encrypting the artifacts. */
  public readonly key: EncryptionKey;
  /** Bucket receiving the artifact bucket's server access logs. */
  public readonly accessLogsBucket: s3.Bucket;
  /** Lets a principal list, read, write and delete objects under {@link MLFLOW_ARTIFACTS_PREFIX}, and nothing else. */
  public readonly mlflowAccessPolicy: iam.ManagedPolicy;
  /** Per model, a policy to list and read its own prefix, and nothing else. */
  public readonly modelReadPolicies: Readonly<Record<string, iam.ManagedPolicy>>;
  /**
   * Per model, a policy to list, read, write and delete its own batch results,
   * {@link modelPredictionsPrefix}, and nothing else. Every model gets one, batch job or not, so
   * that turning a job off never deletes a policy its role, in the model's stack, still holds.
   */
  public readonly modelPredictionsPolicies: Readonly<Record<string, iam.ManagedPolicy>>;

  constructor(scope: Construct, id: string, props: ArtifactBucketProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const destroy = removalPolicy === RemovalPolicy.DESTROY;

    this.key = new EncryptionKey(this, 'Key', {
      description: `Encrypts the MLflow artifacts in ${this.node.path}`,
      removalPolicy,
    });

    // S3 delivers server access logs only to buckets with S3-managed encryption.
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: props.accessLogRetention ?? Duration.days(365),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy,
      autoDeleteObjects: destroy,
    });
    Validations.of(this.accessLogsBucket).acknowledge(
      {
        id: 'AwsSolutions::AwsSolutions-S1',
        reason: 'This is the access log bucket; logging it into itself would loop.',
      },
      {
        id: 'cdk-validator-cfnguard::s3_bucket_logging_enabled_check',
        reason: 'This is the access log bucket; logging it into itself would loop.',
      },
      {
        id: 'cdk-validator-cfnguard::s3_bucket_default_encryption_kms_check',
        reason: 'S3 delivers server access logs only to buckets encrypted with S3-managed keys.',
      },
      {
        id: 'cdk-validator-cfnguard::s3_event_notifications_enabled_check',
        reason: 'Nothing reacts to new access log objects; they are read during investigations only.',
      },
      {
        id: 'cdk-validator-cfnguard::s3_bucket_object_lock_enabled_check',
        reason: 'Access logs expire by lifecycle rule; a write-once retention would keep them past it.',
      },
    );

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'artifacts/',
      lifecycleRules: [
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? Duration.days(30),
          abortIncompleteMultipartUploadAfter: props.abortIncompleteMultipartUploadAfter ?? Duration.days(7),
        },
        {
          id: 'expire-predictions',
          prefix: PREDICTIONS_PREFIX,
          expiration: props.predictionsExpiration ?? Duration.days(3),
          // Results past their lifetime are not kept as old versions either.
          noncurrentVersionExpiration: Duration.days(1),
        },
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
      ],
      removalPolicy,
      autoDeleteObjects: destroy,
    });
    // Set on the L1 because the L2's eventBridgeEnabled deploys a Lambda-backed custom resource.
    (this.bucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };
    Validations.of(this.bucket).acknowledge({
      id: 'cdk-validator-cfnguard::s3_bucket_object_lock_enabled_check',
      reason:
        'MLflow deletes artifacts of deleted runs (mlflow gc) and predictions expire after days; write-once retention would block both. Versioning keeps overwritten and deleted objects for the configured days.',
    });

    this.mlflowAccessPolicy = this.prefixPolicy('MlflowAccessPolicy', MLFLOW_ARTIFACTS_PREFIX, 'readWrite');
    this.modelReadPolicies = Object.fromEntries(
      (props.modelNames ?? []).map((model) => [model, this.prefixPolicy(`Model-${model}-ReadPolicy`, modelArtifactsPrefix(model), 'read')]),
    );
    this.modelPredictionsPolicies = Object.fromEntries(
      (props.modelNames ?? []).map((model) => [model, this.prefixPolicy(`Model-${model}-PredictionsPolicy`, modelPredictionsPrefix(model), 'readWrite')]),
    );
  }

  /**
   * A managed policy for one key prefix, created beside the bucket so that its wildcard finding
   * names this stack's bucket, and consumers in other stacks only attach it.
   */
  private prefixPolicy(id: string, prefix: string, access: 'read' | 'readWrite'): iam.ManagedPolicy {
    const objects = this.bucket.arnForObjects(`${prefix}*`);
    const write = access === 'readWrite';
    const policy = new iam.ManagedPolicy(this, id, {
      description: `${write ? 'Read and write' : 'Read'} ${prefix} in the artifact bucket`,
      statements: [
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [this.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
        }),
        new iam.PolicyStatement({
          actions: write ? ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'] : ['s3:GetObject'],
          resources: [objects],
        }),
        new iam.PolicyStatement({
          actions: write ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'],
          resources: [this.key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
        }),
      ],
    });
    acknowledgeWildcardResource(policy, objects, `Objects under ${prefix} only; their keys are not known in advance.`);
    return policy;
  }
}
