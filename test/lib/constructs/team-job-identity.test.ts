import { Template } from 'aws-cdk-lib/assertions';
import { TEAM_JOBS_SERVICE_ACCOUNT, TeamJobIdentity } from '../../../lib/constructs/team-job-identity';
import { mlflowAccountsStack } from '../../helpers/mlflow-fixture';

type Resource = { Type: string; Properties: Record<string, unknown> };

describe('TeamJobIdentity', () => {
  const { stack, cluster, accounts } = mlflowAccountsStack([
    { name: 'fraud', models: [] },
    { name: 'risk', models: [] },
  ]);
  const fraud = new TeamJobIdentity(stack, 'FraudJobs', { cluster: cluster.cluster, team: 'fraud', accounts });
  const risk = new TeamJobIdentity(stack, 'RiskBatch', { cluster: cluster.cluster, team: 'risk', accounts, serviceAccount: 'batch' });
  const resources: Record<string, Resource> = Template.fromStack(stack).toJSON().Resources;
  const idOf = (type: string, prefix: string) => Object.keys(resources).filter((id) => resources[id].Type === type && id.startsWith(prefix));
  const statementsOf = (prefix: string) => (resources[idOf('AWS::IAM::Policy', prefix)[0]].Properties.PolicyDocument as { Statement: unknown[] }).Statement;

  test("lets the team's job service account read its team's MLflow secret and no other", () => {
    const [fraudSecret] = idOf('AWS::SecretsManager::Secret', 'TeamAccountsTeamfraud');
    expect(statementsOf('FraudJobs')).toEqual([
      { Effect: 'Allow', Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Resource: { Ref: fraudSecret } },
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^MlflowKey/), 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
      },
    ]);
    expect(JSON.stringify(statementsOf('RiskBatch'))).not.toContain(fraudSecret);
    expect(stack.resolve(fraud.mlflowSecretArn)).toEqual({ Ref: fraudSecret });
  });

  test("binds the role to the jobs' service account in the team's namespace, by default team-jobs", () => {
    const associations = idOf('AWS::EKS::PodIdentityAssociation', '').map((id) => resources[id].Properties);
    expect(associations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Namespace: 'fraud', ServiceAccount: TEAM_JOBS_SERVICE_ACCOUNT }),
        expect.objectContaining({ Namespace: 'risk', ServiceAccount: 'batch' }),
      ]),
    );
    expect([fraud.serviceAccount, risk.serviceAccount]).toEqual(['team-jobs', 'batch']);
  });

  test('refuses a team that has no MLflow account', () => {
    expect(() => new TeamJobIdentity(stack, 'Unknown', { cluster: cluster.cluster, team: 'growth', accounts })).toThrow(/no team growth/);
  });
});
