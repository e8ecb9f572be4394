import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import { MlflowDatabase } from '../../../lib/constructs/mlflow-database';
import { PlatformVpc, SUBNET_GROUPS } from '../../../lib/constructs/platform-vpc';
import { testApp } from '../../helpers/app';

function databaseStack(engineVersion?: rds.PostgresEngineVersion) {
  const stack = new Stack(testApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    subnetConfiguration: [
      { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      { name: 'Public', subnetType: ec2.SubnetType.PUBLIC },
    ],
  });
  const database = new MlflowDatabase(stack, 'Database', {
    vpc,
    instanceIdentifier: 'test-mlflow',
    credentialsSecretName: 'test/mlflow/database',
    engineVersion,
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

  test('sits in the Isolated subnet group only, never in the load-balancer subnets, which are isolated too', () => {
    const stack = new Stack(testApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
    const { vpc } = new PlatformVpc(stack, 'Vpc', { availabilityZones: ['eu-west-1a', 'eu-west-1b'], flowLogGroupName: '/test/flow-logs' });
    new MlflowDatabase(stack, 'Database', { vpc, instanceIdentifier: 'test-mlflow', credentialsSecretName: 'test/mlflow/database' });
    const isolated = vpc.selectSubnets({ subnetGroupName: SUBNET_GROUPS.isolated }).subnetIds;
    Template.fromStack(stack).hasResourceProperties('AWS::RDS::DBSubnetGroup', { SubnetIds: stack.resolve(isolated) });
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

  test('offers no IAM database authentication, which no login uses', () => {
    const { stack } = databaseStack();
    Template.fromStack(stack).hasResourceProperties('AWS::RDS::DBInstance', { EnableIAMDatabaseAuthentication: Match.absent() });
  });

  describe('a major version upgrade', () => {
    function resources(version: string) {
      const { stack } = databaseStack(rds.PostgresEngineVersion.of(version, version));
      const template = Template.fromStack(stack);
      return {
        instances: template.findResources('AWS::RDS::DBInstance'),
        parameterGroups: template.findResources('AWS::RDS::DBParameterGroup'),
      };
    }

    test('is allowed, so RDS accepts a raised engineVersion', () => {
      const { instances } = resources('17');
      expect(Object.values(instances).map((instance) => instance.Properties.AllowMajorVersionUpgrade)).toEqual([true]);
    });

    test('changes only EngineVersion of the same instance, a property CloudFormation updates in place', () => {
      const before = resources('17').instances;
      const after = resources('18').instances;
      expect(Object.keys(after)).toEqual(Object.keys(before));
      const [id] = Object.keys(before);
      const changed = Object.keys({ ...before[id].Properties, ...after[id].Properties }).filter(
        (key) => JSON.stringify(before[id].Properties[key]) !== JSON.stringify(after[id].Properties[key]),
      );
      expect(changed).toEqual(['EngineVersion']);
      expect(after[id].Properties.EngineVersion).toBe('18');
    });

    test('gives the instance a parameter group of the new family, created beside the old one', () => {
      const before = resources('17').parameterGroups;
      const after = resources('18').parameterGroups;
      expect(Object.keys(after)).toEqual(Object.keys(before));
      const [group] = Object.values(after);
      expect(group.Properties.Family).toBe('postgres18');
      // A fixed name would make the replacement fail: the old group still holds it.
      expect(group.Properties.DBParameterGroupName).toBeUndefined();
      expect(group.Properties.Parameters).toEqual({ 'rds.force_ssl': '1' });
    });
  });
});
