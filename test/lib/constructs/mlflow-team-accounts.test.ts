import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { k8s } from 'cdk8s-plus-27';
import { MLFLOW_USER_SYNC_SERVICE_ACCOUNT } from '../../../charts/mlflow-user-sync-chart';
import { MLFLOW_NAMESPACE } from '../../../lib/config/platform-names';
import { MlflowTeam, MlflowTeamAccounts } from '../../../lib/constructs/mlflow-team-accounts';
import { appliedManifests, renderRefs } from '../../helpers/applied-manifests';
import { envOf, findObject, KubeObject } from '../../helpers/kube-objects';
import { mlflowAccountsStack } from '../../helpers/mlflow-fixture';

type Resource = { Type: string; DependsOn?: string[]; DeletionPolicy?: string; Properties: Record<string, unknown> };

const TEAMS: MlflowTeam[] = [
  { name: 'fraud', models: [{ registeredModel: 'fraud-scorer' }, { registeredModel: 'fraud-explainer' }] },
  { name: 'risk', models: [] },
];

/** A stack with the server and the accounts of `teams`. */
function accountsStack(teams: readonly MlflowTeam[] = TEAMS): { stack: Stack; accounts: MlflowTeamAccounts } {
  const { stack, accounts } = mlflowAccountsStack(teams);
  return { stack, accounts };
}

describe('MlflowTeamAccounts', () => {
  const { stack, accounts } = accountsStack();
  const template = Template.fromStack(stack).toJSON();
  const resources: Record<string, Resource> = template.Resources;
  const idsOf = (type: string, prefix = '') => Object.keys(resources).filter((id) => resources[id].Type === type && id.startsWith(prefix));
  const [fraudSecret] = idsOf('AWS::SecretsManager::Secret', 'TeamAccountsTeamfraud');
  const [riskSecret] = idsOf('AWS::SecretsManager::Secret', 'TeamAccountsTeamrisk');
  const [adminSecret] = idsOf('AWS::SecretsManager::Secret', 'MlflowAdminSecret');
  const [chart] = idsOf('Custom::AWSCDK-EKS-KubernetesResource', 'TeamAccountsChart');
  const objects = appliedManifests(template, renderRefs)
    .filter(({ logicalId }) => logicalId === chart)
    .map(({ object }) => object as KubeObject);
  const pod = findObject<k8s.JobSpec>(objects, 'Job').spec.template.spec as k8s.PodSpec;

  test('generates one login secret per team, `team-<team>` with a 32-character password, under the MLflow key', () => {
    for (const [id, team] of [[fraudSecret, 'fraud'], [riskSecret, 'risk']]) {
      expect(resources[id].Properties).toMatchObject({
        Name: `test/mlflow/teams/${team}`,
        KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^MlflowKey/), 'Arn'] },
        GenerateSecretString: {
          SecretStringTemplate: JSON.stringify({ username: `team-${team}` }),
          GenerateStringKey: 'password',
          PasswordLength: 32,
          ExcludePunctuation: true,
        },
      });
      expect(resources[id].Properties.SecretString).toBeUndefined();
    }
  });

  test('deletes a removed team\'s secret with it, so that the team can be added again under its name', () => {
    expect([resources[fraudSecret].DeletionPolicy, resources[riskSecret].DeletionPolicy]).toEqual(['Delete', 'Delete']);
  });

  test('tells the sync Job every team by secret ARN, with the registered models its config serves, and the admin secret by ARN', () => {
    const env = envOf(pod.containers[0]);
    expect(JSON.parse(env.MLFLOW_TEAMS ?? '')).toEqual([
      { team: 'fraud', secretId: `ref:${fraudSecret}`, registeredModels: ['fraud-scorer', 'fraud-explainer'] },
      { team: 'risk', secretId: `ref:${riskSecret}`, registeredModels: [] },
    ]);
    expect(env.MLFLOW_ADMIN_SECRET_ID).toBe(`ref:${adminSecret}`);
    expect(pod.containers[0].args).toEqual(['sync-users']);
    expect(pod.containers[0].image).toBe(
      (findObject<k8s.DeploymentSpec>(appliedManifests(template).map(({ object }) => object as KubeObject), 'Deployment', 'mlflow').spec.template.spec as k8s.PodSpec)
        .containers[0].image,
    );
  });

  test('gives the sync a role that reads exactly the admin secret and the team secrets, decrypted only through Secrets Manager', () => {
    const [association] = idsOf('AWS::EKS::PodIdentityAssociation', 'TeamAccounts');
    expect(resources[association].Properties).toMatchObject({ Namespace: MLFLOW_NAMESPACE, ServiceAccount: MLFLOW_USER_SYNC_SERVICE_ACCOUNT });
    expect(pod.serviceAccountName).toBe(MLFLOW_USER_SYNC_SERVICE_ACCOUNT);
    const [policy] = idsOf('AWS::IAM::Policy', 'TeamAccountsSyncRole');
    expect((resources[policy].Properties.PolicyDocument as { Statement: unknown[] }).Statement).toEqual([
      {
        Effect: 'Allow',
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        Resource: [{ Ref: adminSecret }, { Ref: fraudSecret }, { Ref: riskSecret }],
      },
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^MlflowKey/), 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
      },
    ]);
  });

  test('applies the sync after the MLflow chart and after its role, policy and association', () => {
    const [mlflowChart] = idsOf('Custom::AWSCDK-EKS-KubernetesResource', 'MlflowChart');
    expect(resources[chart].DependsOn).toEqual(
      expect.arrayContaining([mlflowChart, ...idsOf('AWS::EKS::PodIdentityAssociation', 'TeamAccounts'), ...idsOf('AWS::IAM::Policy', 'TeamAccountsSyncRole')]),
    );
  });

  test('hands out a team secret by team, and names the teams it has when asked for another', () => {
    expect(stack.resolve(accounts.secretOf('risk').secretArn)).toEqual({ Ref: riskSecret });
    expect(() => accounts.secretOf('growth')).toThrow('MlflowTeamAccounts: no team growth; known: fraud, risk');
  });

  test('still runs the sync, with an empty list, when no team is left, so that their users are disabled', () => {
    const empty = Template.fromStack(accountsStack([]).stack).toJSON();
    const [emptyChart] = Object.keys(empty.Resources).filter((id) => id.startsWith('TeamAccountsChart'));
    const job = appliedManifests(empty).find(({ logicalId, object }) => logicalId === emptyChart && (object as KubeObject).kind === 'Job');
    expect(envOf(((job?.object as KubeObject<k8s.JobSpec>).spec.template.spec as k8s.PodSpec).containers[0]).MLFLOW_TEAMS).toBe('[]');
  });
});
