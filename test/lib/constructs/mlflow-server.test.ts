import { Template } from 'aws-cdk-lib/assertions';
import { k8s } from 'cdk8s-plus-27';
import { appliedManifests } from '../../helpers/applied-manifests';
import { envOf, findObject, KubeObject } from '../../helpers/kube-objects';
import { mlflowStack } from '../../helpers/mlflow-fixture';

/** One stack with everything the server needs, the database named `tracking` rather than the default. */
function serverStack() {
  const { stack } = mlflowStack({ databaseName: 'tracking' });
  return Template.fromStack(stack).toJSON();
}

describe('MlflowServer', () => {
  const template = serverStack();
  const resources: Record<string, { Type: string; DependsOn?: string[]; Properties: Record<string, unknown> }> = template.Resources;
  const logicalIds = (type: string) => Object.keys(resources).filter((id) => resources[id].Type === type);
  const applied = appliedManifests(template);
  const objects = applied.filter(({ logicalId }) => logicalId.startsWith('MlflowChart')).map(({ object }) => object as KubeObject);

  test('points the server and the migration at the database the instance creates', () => {
    expect(resources[logicalIds('AWS::RDS::DBInstance')[0]].Properties.DBName).toBe('tracking');
    for (const workload of [findObject<k8s.DeploymentSpec>(objects, 'Deployment', 'mlflow'), findObject<k8s.JobSpec>(objects, 'Job')]) {
      expect(envOf((workload.spec.template.spec as k8s.PodSpec).containers[0]).MLFLOW_BACKEND_DB).toBe('tracking');
    }
  });

  test('applies its chart after the cluster-wide settings and both Pod Identity associations', () => {
    const chart = logicalIds('Custom::AWSCDK-EKS-KubernetesResource').find((id) => id.startsWith('MlflowChart')) ?? '';
    const clusterConfig = applied.find(({ object }) => (object as KubeObject).kind === 'NodeClass')?.logicalId;
    expect(resources[chart].DependsOn).toEqual(expect.arrayContaining([clusterConfig, ...logicalIds('AWS::EKS::PodIdentityAssociation').filter((id) => id.startsWith('Mlflow'))]));
  });

  test('keeps its key and secrets at logical IDs named after the server alone, the IDs they were deployed with', () => {
    const stateful = [...logicalIds('AWS::SecretsManager::Secret'), ...logicalIds('AWS::KMS::Key')].filter((id) => id.startsWith('Mlflow'));
    expect(stateful.map((id) => id.slice(0, -8)).sort()).toEqual(['MlflowAdminSecret', 'MlflowDatabaseAppSecret', 'MlflowFlaskSecretKey', 'MlflowKey']);
  });
});
