import { App, CfnParameter, CfnResource, Stack } from 'aws-cdk-lib';
import { appliedManifests, appliedManifestsOf, DEPLOY_TIME_VALUE } from './applied-manifests';
import { validateKubernetesObjects } from './kubernetes-schema';

const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mlops' } };

function kubernetesResource(manifest: unknown) {
  return { Type: 'Custom::AWSCDK-EKS-KubernetesResource', Properties: { ClusterName: 'platform', Manifest: manifest } };
}

test('a Manifest written as a JSON string gives its objects, with the logical ID they came from', () => {
  const template = { Resources: { NamespaceManifest: kubernetesResource(JSON.stringify([namespace])) } };

  expect(appliedManifests(template)).toEqual([{ logicalId: 'NamespaceManifest', object: namespace }]);
});

test('deploy-time values in an Fn::Join become placeholders inside the JSON strings', () => {
  const manifest = {
    'Fn::Join': [
      '',
      [
        '[{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"',
        { Ref: 'MlflowRoleName' },
        '","namespace":"mlops","annotations":{"eks.amazonaws.com/role-arn":"',
        { 'Fn::GetAtt': ['MlflowRole', 'Arn'] },
        '"}}}]',
      ],
    ],
  };
  const template = { Resources: { ServiceAccountManifest: kubernetesResource(manifest) } };

  expect(appliedManifests(template)).toEqual([
    {
      logicalId: 'ServiceAccountManifest',
      object: {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: DEPLOY_TIME_VALUE, namespace: 'mlops', annotations: { 'eks.amazonaws.com/role-arn': DEPLOY_TIME_VALUE } },
      },
    },
  ]);
});

test('resources of other types are left out', () => {
  const template = {
    Resources: {
      Bucket: { Type: 'AWS::S3::Bucket', Properties: {} },
      Chart: { Type: 'Custom::AWSCDK-EKS-HelmChart', Properties: { Chart: 'mlflow' } },
    },
  };

  expect(appliedManifests(template)).toEqual([]);
});

test('a deploy-time value outside a JSON string fails, naming the resource', () => {
  const manifest = { 'Fn::Join': ['', ['[{"apiVersion":"v1","kind":"Namespace","spec":', { Ref: 'Spec' }, '}]']] };
  const template = { Resources: { NamespaceManifest: kubernetesResource(manifest) } };

  expect(() => appliedManifests(template)).toThrow('NamespaceManifest: Manifest is not JSON');
});

test('a stack gives the objects its manifests apply, as CDK encodes them', () => {
  // Built-in validation off: it would load the CloudFormation validator for a single custom resource.
  const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Stack');
  const namespaceName = new CfnParameter(stack, 'NamespaceName').valueAsString;
  new CfnResource(stack, 'NamespaceManifest', {
    type: 'Custom::AWSCDK-EKS-KubernetesResource',
    properties: { Manifest: stack.toJsonString([{ ...namespace, metadata: { name: namespaceName } }]) },
  });

  const manifests = appliedManifestsOf(stack);

  expect(manifests).toEqual([{ logicalId: 'NamespaceManifest', object: { ...namespace, metadata: { name: DEPLOY_TIME_VALUE } } }]);
  expect(() => validateKubernetesObjects(manifests.map((manifest) => manifest.object))).not.toThrow();
});
