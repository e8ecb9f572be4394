import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { MlflowDatabase } from '../../../lib/constructs/mlflow-database';
import { testApp } from '../../helpers/app';

function databaseStack() {
  const stack = new Stack(testApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    subnetConfiguration: [
      { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      { name: 'Public', subnetType: ec2.SubnetType.PUBLIC },
    ],
  });
  const database = new MlflowDatabase(stack, 'Database', {
    vpc,
    instanceIdentifier: 'test-mlflow',
    credentialsSecretName: 'test/mlflow/database',
  });
  return { stack, vpc, database };
}

describe('MlflowDatabase', () => {
  test('admits a named peer on PostgreSQL port 5432 only', () => {
    const { stack, vpc, database } = databaseStack();
    const peer = new ec2.SecurityGroup(stack, 'Peer', { vpc });
    database.allowConnectionsFrom(peer, 'cluster');

    Template.fromStack(stack).hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 5432,
      ToPort: 5432,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Peer'), 'GroupId'] },
      Description: 'cluster',
    });
  });

  test('opens no egress from the database', () => {
    const { stack } = databaseStack();
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('MLflow database'),
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic' })],
    });
  });

  test('defaults to a protected, Multi-AZ instance kept as a snapshot', () => {
    const { stack } = databaseStack();
    Template.fromStack(stack).hasResource('AWS::RDS::DBInstance', {
      Properties: Match.objectLike({ MultiAZ: true, DeletionProtection: true, BackupRetentionPeriod: 14 }),
      DeletionPolicy: 'Snapshot',
    });
  });
});
