import { CfnElement, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AlarmTopic, AlarmTopicProps } from '../../../lib/constructs/alarm-topic';
import { testApp } from '../../helpers/app';
import { policyFindings } from '../../helpers/policy-findings';
import { FIXTURE_ENV } from '../../helpers/target-group-fixture';

const HOOK = 'https://hooks.example.com/alarms';

function alarmTopic(props: Partial<AlarmTopicProps> = {}) {
  const stack = new Stack(testApp(), 'Ingress', { env: FIXTURE_ENV });
  const construct = new AlarmTopic(stack, 'AlarmTopic', {
    topicName: 'mlops-dev-alarms',
    displayName: 'MLOps platform dev alarms',
    emails: ['ops@example.com', 'ml@example.com'],
    httpsEndpoint: HOOK,
    ...props,
  });
  return { stack, construct, template: Template.fromStack(stack) };
}

/** The statements of the only policy of a type in a template. */
function statements(template: Template, type: string, property: string): Record<string, unknown>[] {
  const resources = Object.values(template.findResources(type));
  expect(resources).toHaveLength(1);
  return (resources[0].Properties[property] as { Statement: Record<string, unknown>[] }).Statement;
}

describe('AlarmTopic', () => {
  const { stack, construct, template } = alarmTopic();
  const keyId = stack.getLogicalId(construct.key.node.defaultChild as CfnElement);
  const topicId = stack.getLogicalId(construct.topic.node.defaultChild as CfnElement);

  test('encrypts the topic with its own customer-managed key', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: 'mlops-dev-alarms',
      DisplayName: 'MLOps platform dev alarms',
      KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('lets CloudWatch generate and decrypt data keys with the key, which alarm notifications to an encrypted topic need', () => {
    expect(statements(template, 'AWS::KMS::Key', 'KeyPolicy')).toContainEqual({
      Sid: 'AllowCloudWatchAlarmsToUseTheKey',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
    });
  });

  test('lets alarms of its own account and region publish, and nothing else', () => {
    const allows = statements(template, 'AWS::SNS::TopicPolicy', 'PolicyDocument').filter((statement) => statement.Effect === 'Allow');
    expect(allows).toEqual([
      {
        Sid: 'AllowCloudWatchAlarmsOfThisAccountToPublish',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topicId },
        Condition: {
          StringEquals: { 'aws:SourceAccount': '123456789012' },
          ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:*' },
        },
      },
    ]);
  });

  test('refuses publishing without TLS', () => {
    expect(statements(template, 'AWS::SNS::TopicPolicy', 'PolicyDocument')).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  test('subscribes every e-mail address and the HTTPS endpoint', () => {
    const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription')).map((resource) => resource.Properties);
    expect(subscriptions.map(({ Protocol, Endpoint }) => ({ Protocol, Endpoint }))).toEqual([
      { Protocol: 'email', Endpoint: 'ops@example.com' },
      { Protocol: 'email', Endpoint: 'ml@example.com' },
      { Protocol: 'https', Endpoint: HOOK },
    ]);
  });

  test('has no subscription when config names no one', () => {
    const { template: bare } = alarmTopic({ emails: undefined, httpsEndpoint: undefined });
    bare.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  test('refuses a plain http endpoint with a one-line error that does not repeat the URL', () => {
    const attempt = () => alarmTopic({ httpsEndpoint: 'http://hooks.example.com/secret-token' });
    expect(attempt).toThrow('Ingress/AlarmTopic: httpsEndpoint must be an https:// URL; plain http would send alarm notifications unencrypted');
    expect(attempt).not.toThrow(/secret-token/);
  });

  test('keeps its key when removed from the stack unless told otherwise', () => {
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
    alarmTopic({ removalPolicy: RemovalPolicy.DESTROY }).template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
  });

  test('passes cdk-nag and the Control Tower rules with no acknowledgment', () => {
    const findings = policyFindings((app) => {
      new AlarmTopic(new Stack(app, 'Ingress', { env: FIXTURE_ENV }), 'AlarmTopic', { displayName: 'alarms', emails: ['ops@example.com'] });
      return 'Ingress';
    });
    expect(findings).toEqual([]);
  });
});
