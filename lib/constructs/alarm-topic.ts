import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { EncryptionKey } from './encryption-key';

/** Properties of an {@link AlarmTopic}. */
export interface AlarmTopicProps {
  /** Name of the topic. @default - a name CloudFormation generates */
  readonly topicName?: string;
  /** Name shown as the sender of notifications, at most 100 characters. */
  readonly displayName: string;
  /** Addresses that receive every notification, once each has confirmed its subscription. @default - none */
  readonly emails?: string[];
  /** An HTTPS URL that receives every notification, e.g. a chat or paging webhook. @default - none */
  readonly httpsEndpoint?: string;
  /** What happens to the topic's key when it leaves the stack. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The SNS topic that CloudWatch alarms of an environment notify, encrypted with a key of its own,
 * accepting publishes over TLS only, with e-mail and HTTPS subscribers.
 *
 * CloudWatch publishes an alarm's notification as the `cloudwatch.amazonaws.com` service, so the
 * key must let that service generate and decrypt data keys (an AWS-managed SNS key cannot, and the
 * alarm's action then fails), and the topic policy must let it publish: the SSL-only statement
 * replaces the topic's default policy, which allowed the account's own services.
 */
export class AlarmTopic extends Construct {
  /** The topic; alarm and OK actions publish here. */
  public readonly topic: sns.Topic;
  /** The key that encrypts the topic's messages at rest. */
  public readonly key: EncryptionKey;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    if (props.httpsEndpoint !== undefined && !props.httpsEndpoint.startsWith('https://')) {
      // The URL is not echoed: webhook URLs often carry a token.
      throw new Error(`${this.node.path}: httpsEndpoint must be an https:// URL; plain http would send alarm notifications unencrypted`);
    }
    const { account, region, partition } = Stack.of(this);

    this.key = new EncryptionKey(this, 'Key', {
      description: `Encrypts the alarm notifications of ${props.displayName}`,
      removalPolicy: props.removalPolicy,
    });
    // What AWS documents for alarms on a topic encrypted with a customer-managed key (re:Post
    // "configure a CloudWatch alarm with an encrypted SNS topic"). The key encrypts this topic only.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToUseTheKey',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );

    this.topic = new sns.Topic(this, 'Resource', {
      topicName: props.topicName,
      displayName: props.displayName,
      masterKey: this.key,
      enforceSSL: true,
    });
    // Only alarms of this account and region may publish: the service principal acts for every
    // account, so the source conditions keep another account's alarms out (confused deputy).
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccountToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
        },
      }),
    );

    for (const email of props.emails ?? []) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }
    if (props.httpsEndpoint !== undefined) {
      this.topic.addSubscription(new subscriptions.UrlSubscription(props.httpsEndpoint, { protocol: sns.SubscriptionProtocol.HTTPS }));
    }
  }
}
