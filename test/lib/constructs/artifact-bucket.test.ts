import { CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ArtifactBucket, modelPredictionsPrefix } from '../../../lib/constructs/artifact-bucket';
import { testApp } from '../../helpers/app';

describe('ArtifactBucket', () => {
  const stack = new Stack(testApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const artifacts = new ArtifactBucket(stack, 'Artifacts', { modelNames: ['churn', 'churn-v2'] });
  const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  const bucketId = stack.getLogicalId(artifacts.bucket.node.defaultChild as CfnElement);
  const keyId = stack.getLogicalId(artifacts.key.node.defaultChild as CfnElement);

  test("gives every model a policy to list, write and delete its own batch results under predictions/<model>/, and nothing else", () => {
    expect(modelPredictionsPrefix('churn')).toBe('predictions/churn/');
    const policy = template.Resources[stack.getLogicalId(artifacts.modelPredictionsPolicies.churn.node.defaultChild as CfnElement)];
    expect(policy.Type).toBe('AWS::IAM::ManagedPolicy');
    expect((policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] },
        Condition: { StringLike: { 's3:prefix': ['predictions/churn/*'] } },
      },
      {
        Effect: 'Allow',
        Action: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'],
        // The trailing slash keeps churn's policy off churn-v2's results.
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/predictions/churn/*']] },
      },
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
      },
    ]);
    expect(Object.keys(artifacts.modelPredictionsPolicies)).toEqual(['churn', 'churn-v2']);
  });
});
