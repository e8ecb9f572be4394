import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Properties of an {@link EncryptedLogGroup}. */
export interface EncryptedLogGroupProps {
  /** Customer-managed key that encrypts the log data. */
  readonly encryptionKey: kms.IKey;
  /** Days to keep log events. @default RetentionDays.ONE_YEAR */
  readonly retention?: logs.RetentionDays;
  /** Name of the group; fixed so that the key grant can name exactly this group. */
  readonly logGroupName: string;
  /** What happens to the log group when it leaves the stack. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A CloudWatch log group encrypted with a customer-managed key.
 *
 * The LogGroup L2 does not grant CloudWatch Logs use of the key, and without that grant
 * CloudFormation fails to create the group; this adds the grant, scoped to this group's name
 * (its ARN would make the key policy and the group depend on each other).
 */
export class EncryptedLogGroup extends Construct {
  /** The log group. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: EncryptedLogGroupProps) {
    super(scope, id);
    const { region, account, partition } = Stack.of(this);
    this.logGroup = new logs.LogGroup(this, 'Resource', {
      encryptionKey: props.encryptionKey,
      retention: props.retention ?? logs.RetentionDays.ONE_YEAR,
      logGroupName: props.logGroupName,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    if ((props.retention ?? logs.RetentionDays.ONE_YEAR) < logs.RetentionDays.ONE_YEAR) {
      Validations.of(this).acknowledge({
        id: 'cdk-validator-cfnguard::cloudwatch_log_group_retention_period_check',
        reason: 'Retention under a year comes from config, whose schema allows it only in development environments.',
      });
    }
    props.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${region}:${account}:log-group:${props.logGroupName}`,
          },
        },
      }),
    );
  }
}
