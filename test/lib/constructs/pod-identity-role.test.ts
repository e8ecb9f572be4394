import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { PodIdentityRole } from '../../../lib/constructs/pod-identity-role';
import { testApp } from '../../helpers/app';

type Statement = { Action: string | string[]; Resource: unknown; Condition?: Record<string, unknown>; Effect: string };

const KEY = 'arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-4000-8000-000000000000';

function roleWith(grant: (identity: PodIdentityRole) => void): Statement[] {
  const stack = new Stack(testApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'test' });
  const identity = new PodIdentityRole(stack, 'Role', { cluster, namespace: 'fraud', serviceAccount: 'fraud-scorer-training', description: 'test' });
  grant(identity);
  const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
  return Object.values(policies).flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

describe('PodIdentityRole.grantFolderRead', () => {
  test('lets the pods list the keys under the folder in its bucket and read the objects under it, nothing else', () => {
    expect(roleWith((identity) => identity.grantFolderRead('s3://fraud-data/training/daily/'))).toEqual([
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::fraud-data', Condition: { StringLike: { 's3:prefix': ['training/daily/*'] } } },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::fraud-data/training/daily/*' },
    ]);
  });

  test("lets the pods decrypt with the folder's KMS key, through S3 only, when it has one", () => {
    expect(roleWith((identity) => identity.grantFolderRead('s3://fraud-data/training/', KEY))).toEqual([
      expect.objectContaining({ Action: 's3:ListBucket' }),
      expect.objectContaining({ Action: 's3:GetObject' }),
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY, Condition: { StringLike: { 'kms:ViaService': 's3.*.amazonaws.com' } } },
    ]);
  });

  test.each([
    ['a bucket without a folder, which would open the whole bucket', 's3://fraud-data/'],
    ['a file rather than a folder', 's3://fraud-data/training/rows.csv'],
    ['something other than an S3 address', 'fraud-data/training/'],
  ])('refuses %s', (_title, folder) => {
    expect(() => roleWith((identity) => identity.grantFolderRead(folder))).toThrow(`${folder} is not an S3 folder such as s3://fraud-data/scoring/daily/`);
  });
});

describe('PodIdentityRole.grantMetricPublishing', () => {
  test('lets the pods publish metrics to the one namespace given, the only scope PutMetricData has', () => {
    expect(roleWith((identity) => identity.grantMetricPublishing('MLOpsPlatform/Batch/mlops-prod/fraud-scorer'))).toEqual([
      { Effect: 'Allow', Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': 'MLOpsPlatform/Batch/mlops-prod/fraud-scorer' } } },
    ]);
  });
});
