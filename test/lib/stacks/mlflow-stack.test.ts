import * as fs from 'node:fs';
import * as path from 'node:path';
import { k8s } from 'cdk8s-plus-27';
import { MLFLOW_MIGRATION_SERVICE_ACCOUNT, MLFLOW_PORT, MLFLOW_SERVER_SERVICE_ACCOUNT } from '../../../charts/mlflow-chart';
import { MLFLOW_USER_SYNC_SERVICE_ACCOUNT } from '../../../charts/mlflow-user-sync-chart';
import { MLFLOW_NAMESPACE } from '../../../lib/config/platform-names';
import { MLFLOW_IMAGE_DIRECTORY } from '../../../lib/constructs/mlflow-server';
import { appliedManifests, renderRefs } from '../../helpers/applied-manifests';
import { ENVIRONMENTS } from '../../helpers/app';
import { committedConfig, committedStageDirectory, committedStageFacts, committedTemplate } from '../../helpers/committed-assembly';
import { envOf, findObject, KubeObject, objectsOfKind } from '../../helpers/kube-objects';
import { endpointSubnetCidrs } from '../../helpers/network-facts';
import { canonical, egressPairs } from '../../helpers/network-policies';

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const actionsOf = (statement: Statement) => [statement.Action].flat();

describe.each(ENVIRONMENTS)('%s MLflow stack', (name) => {
  const config = committedConfig(name);
  const stage = committedStageFacts(name);
  const template = committedTemplate(name, 'Mlflow');
  const json = template.toJSON();
  const resourcesOf = (type: string) => Object.entries(template.findResources(type));
  const roleNamed = (prefix: string) => resourcesOf('AWS::IAM::Role').find(([id]) => id.startsWith(prefix)) ?? [];
  const statementsOf = (rolePrefix: string): Statement[] =>
    resourcesOf('AWS::IAM::Policy')
      .filter(([, policy]) => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref.startsWith(rolePrefix)))
      .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement);

  test('binds each service account to its own role through EKS Pod Identity', () => {
    const associations = resourcesOf('AWS::EKS::PodIdentityAssociation').map(([, association]) => association.Properties);
    expect(associations).toEqual([
      expect.objectContaining({ Namespace: MLFLOW_NAMESPACE, ServiceAccount: MLFLOW_SERVER_SERVICE_ACCOUNT, RoleArn: { 'Fn::GetAtt': [expect.stringMatching(/^MlflowServerRole/), 'Arn'] } }),
      expect.objectContaining({ Namespace: MLFLOW_NAMESPACE, ServiceAccount: MLFLOW_MIGRATION_SERVICE_ACCOUNT, RoleArn: { 'Fn::GetAtt': [expect.stringMatching(/^MlflowMigrationRole/), 'Arn'] } }),
      expect.objectContaining({ Namespace: MLFLOW_NAMESPACE, ServiceAccount: MLFLOW_USER_SYNC_SERVICE_ACCOUNT, RoleArn: { 'Fn::GetAtt': [expect.stringMatching(/^TeamAccountsSyncRole/), 'Arn'] } }),
    ]);
  });

  test('lets only its own service account of this cluster assume each role, by Pod Identity session tags', () => {
    for (const prefix of ['MlflowServerRole', 'MlflowMigrationRole']) {
      expect(roleNamed(prefix)[1]?.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Effect: 'Allow',
          Principal: { Service: 'pods.eks.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Condition: {
            StringEquals: {
              'aws:SourceAccount': config.account,
              'aws:RequestTag/kubernetes-namespace': MLFLOW_NAMESPACE,
              'aws:RequestTag/kubernetes-service-account': prefix === 'MlflowServerRole' ? MLFLOW_SERVER_SERVICE_ACCOUNT : MLFLOW_MIGRATION_SERVICE_ACCOUNT,
            },
            ArnEquals: {
              'aws:RequestTag/eks-cluster-arn': { 'Fn::GetStackOutput': expect.objectContaining({ StackName: `${name}-Cluster`, OutputName: expect.stringMatching(/Cluster.*Arn/) }) },
            },
          },
        },
      ]);
    }
  });

  test('gives the server the artifact prefix policy and read access to its three secrets, nothing with a * resource', () => {
    expect(roleNamed('MlflowServerRole')[1]?.Properties.ManagedPolicyArns).toEqual([
      { 'Fn::GetStackOutput': expect.objectContaining({ StackName: `${name}-Data`, OutputName: expect.stringMatching(/ArtifactsMlflowAccessPolicy/) }) },
    ]);
    const statements = statementsOf('MlflowServerRole');
    expect(statements.flatMap(actionsOf).sort()).toEqual(['kms:Decrypt', 'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    const secrets = statements.find((statement) => actionsOf(statement).includes('secretsmanager:GetSecretValue'))?.Resource;
    expect(secrets).toEqual([
      { Ref: expect.stringMatching(/^MlflowAdminSecret/) },
      { Ref: expect.stringMatching(/^MlflowDatabaseAppSecret/) },
      { Ref: expect.stringMatching(/^MlflowFlaskSecretKey/) },
    ]);
    expect(JSON.stringify(statements)).not.toMatch(/"Resource":"\*"/);
  });

  test('gives only the migration the database master secret', () => {
    const migration = JSON.stringify(statementsOf('MlflowMigrationRole'));
    const server = JSON.stringify(statementsOf('MlflowServerRole'));
    expect(migration).toMatch(/MlflowDatabaseSecret/);
    expect(migration).toMatch(/MlflowDatabaseKey/);
    expect(server).not.toMatch(/MlflowDatabaseSecret|MlflowDatabaseKey/);
    expect(migration).not.toMatch(/MlflowAdminSecret|MlflowFlaskSecretKey|"Resource":"\*"/);
  });

  test('lets secrets be decrypted only by way of Secrets Manager', () => {
    for (const prefix of ['MlflowServerRole', 'MlflowMigrationRole']) {
      const decrypt = statementsOf(prefix).filter((statement) => actionsOf(statement).includes('kms:Decrypt'));
      expect(decrypt.map((statement) => statement.Condition)).toEqual([
        { StringEquals: { 'kms:ViaService': `secretsmanager.${config.region}.amazonaws.com` } },
      ]);
    }
  });

  test('generates the app user, admin and Flask secrets, encrypted with its own key and kept outside development', () => {
    const secrets = resourcesOf('AWS::SecretsManager::Secret').filter(([id]) => id.startsWith('Mlflow'));
    expect(secrets.map(([, secret]) => secret.Properties.Name).sort()).toEqual(
      ['admin', 'database-app', 'flask-secret-key'].map((secret) => `${config.namePrefix}/${name}/mlflow/${secret}`),
    );
    for (const [, secret] of secrets) {
      expect(secret.Properties.GenerateSecretString).toBeDefined();
      expect(secret.Properties.SecretString).toBeUndefined();
      expect(secret.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^MlflowKey/), 'Arn'] });
      expect(secret.DeletionPolicy).toBe(config.environmentType === 'production' ? 'Retain' : 'Delete');
    }
  });

  test("generates one login secret per team, `team-<team>` under the server's key, for its jobs and the user sync alone", () => {
    const secrets = resourcesOf('AWS::SecretsManager::Secret').filter(([id]) => id.startsWith('TeamAccounts'));
    expect(secrets.map(([, secret]) => secret.Properties.Name)).toEqual(config.teams.map((team) => `${config.namePrefix}/${name}/mlflow/teams/${team.name}`));
    for (const [index, [, secret]] of secrets.entries()) {
      expect(JSON.parse(secret.Properties.GenerateSecretString.SecretStringTemplate)).toEqual({ username: `team-${config.teams[index].name}` });
      expect(secret.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^MlflowKey/), 'Arn'] });
    }
    const read = statementsOf('TeamAccountsSyncRole').filter((statement) => actionsOf(statement).includes('secretsmanager:GetSecretValue'));
    expect(read.map((statement) => [statement.Resource].flat())).toEqual([
      [{ Ref: expect.stringMatching(/^MlflowAdminSecret/) }, ...secrets.map(([id]) => ({ Ref: id }))],
    ]);
  });

  test('applies the chart after the cluster-wide settings, and outputs the URL and the admin secret name', () => {
    const [, chart] = resourcesOf('Custom::AWSCDK-EKS-KubernetesResource')[0];
    expect(JSON.stringify(chart.Properties.ServiceToken)).toMatch(/KubectlProvider/);
    expect(stage.stacks.Mlflow.dependencies).toEqual(expect.arrayContaining(['Cluster', 'Data']));
    // Besides the outputs other stacks read through Fn::GetStackOutput (aws-cdk-lib names them PublishOutput…).
    const own = Object.entries(json.Outputs).filter(([id]) => !id.startsWith('PublishOutput')).map(([, output]) => output);
    expect(own).toEqual([
      expect.objectContaining({ Value: `${config.ingress.certificateArn ? 'https' : 'http'}://${config.mlflow.hostname}` }),
      expect.objectContaining({ Value: `${config.namePrefix}/${name}/mlflow/admin` }),
    ]);
  });

  test('builds the server image from images/mlflow for amd64 at deploy time', () => {
    const assets = JSON.parse(fs.readFileSync(path.join(committedStageDirectory(name), `${stage.stacks.Mlflow.artifactId}.assets.json`), 'utf8'));
    const images = Object.values(assets.dockerImages) as { source: { directory: string; platform?: string } }[];
    expect(images).toHaveLength(1);
    expect(images[0].source.platform).toBe('linux/amd64');
    expect(fs.readFileSync(path.join(MLFLOW_IMAGE_DIRECTORY, 'Dockerfile'), 'utf8')).toMatch(/^USER 10001:10001$/m);
  });

  test('runs the configured replicas and workers, and answers the configured host name through its target group on the shared listener', () => {
    const applied = appliedManifests(json).map((manifest) => manifest.object) as KubeObject[];
    const server = findObject<k8s.DeploymentSpec>(applied, 'Deployment', 'mlflow');
    expect(server.spec.replicas).toBe(config.mlflow.replicas);
    const env = envOf((server.spec.template.spec as k8s.PodSpec).containers[0]);
    expect(env.MLFLOW_WORKERS).toBe(String(config.mlflow.workers));
    expect(env.MLFLOW_ALLOWED_HOSTS?.split(',')).toEqual(expect.arrayContaining([config.mlflow.hostname, 'mlflow.mlflow.svc.cluster.local']));
    const [[groupId, group]] = Object.entries(template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup'));
    expect(group.Properties).toMatchObject({ TargetType: 'ip', Port: MLFLOW_PORT, HealthCheckPath: '/health' });
    const [rule] = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::ListenerRule'));
    expect(rule.Properties.Conditions).toEqual([{ Field: 'host-header', HostHeaderConfig: { Values: [config.mlflow.hostname] } }]);
    expect(JSON.stringify(rule.Properties.Actions)).toContain(groupId);
    const withRefs = appliedManifests(json, renderRefs).map((manifest) => manifest.object) as KubeObject[];
    const binding = findObject<{ targetGroupARN: unknown; serviceRef: { name: string; port: number } }>(withRefs, 'TargetGroupBinding', 'mlflow');
    expect(binding.spec).toEqual({ targetGroupARN: `ref:${groupId}`, targetType: 'ip', serviceRef: { name: 'mlflow', port: 80 } });
  });

  test("lets the server, the migration and the user sync reach AWS over HTTPS at the endpoint subnets alone, or anywhere where config says so", () => {
    const awsApiCidrs =
      config.network.podHttpsEgress === 'endpoints' ? endpointSubnetCidrs(committedTemplate(name, 'Network')) : ['0.0.0.0/0'];
    expect(awsApiCidrs.length).toBeGreaterThan(0);
    const policies = objectsOfKind<k8s.NetworkPolicySpec>(appliedManifests(json).map((manifest) => manifest.object) as KubeObject[], 'NetworkPolicy');
    const https = egressPairs(policies).filter((pair) => pair.endsWith(' TCP/443'));
    // The server's namespace-wide rule and the sync Job's own rule, each naming every endpoint subnet.
    expect(https).toEqual(awsApiCidrs.flatMap((cidr) => Array(2).fill(`${canonical({ ipBlock: { cidr } })} TCP/443`)).sort());
  });
});
