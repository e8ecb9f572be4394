import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { EncryptionKey } from '../../../lib/constructs/encryption-key';
import { testApp } from '../../helpers/app';

describe('EncryptionKey', () => {
  const stack = new Stack(testApp(), 'Test');
  new EncryptionKey(stack, 'Key', { description: 'test' });
  const template = Template.fromStack(stack);

  test('rotates its key material', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, Description: 'test' });
  });

  test('denies grants that are neither for an AWS resource nor made by an AWS service', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Sid: 'DenyGrantsExceptForAwsResources',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'kms:CreateGrant',
            Resource: '*',
            Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
          },
        ]),
      },
    });
  });

  test('is retained when removed from the stack by default', () => {
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
  });
});
