import { DEPLOY_TIME_VALUE } from './applied-manifests';
import { validateKubernetesObject, validateKubernetesObjects } from './kubernetes-schema';

function deployment(spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'mlflow', namespace: 'mlops' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'mlflow' } },
      template: {
        metadata: { labels: { app: 'mlflow' } },
        spec: { containers: [{ name: 'mlflow', image: 'mlflow:3', ports: [{ containerPort: 5000 }] }] },
      },
      ...spec,
    },
  };
}

function nodePool(spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'karpenter.sh/v1',
    kind: 'NodePool',
    metadata: { name: 'gpu' },
    spec: {
      template: {
        spec: {
          nodeClassRef: { group: 'eks.amazonaws.com', kind: 'NodeClass', name: 'gpu' },
          requirements: [{ key: 'eks.amazonaws.com/instance-category', operator: 'In', values: ['g'] }],
        },
      },
      limits: { cpu: 64 },
      ...spec,
    },
  };
}

function nodeClass(spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'eks.amazonaws.com/v1',
    kind: 'NodeClass',
    metadata: { name: 'gpu' },
    spec: {
      role: 'mlops-node-role',
      subnetSelectorTerms: [{ tags: { 'kubernetes.io/role/internal-elb': '1' } }],
      securityGroupSelectorTerms: [{ id: 'sg-0123456789abcdef0' }],
      networkPolicy: 'DefaultDeny',
      ephemeralStorage: { size: '200Gi', iops: 6000, throughput: 250 },
      tags: { team: 'mlops' },
      ...spec,
    },
  };
}

function targetGroupBinding(spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'eks.amazonaws.com/v1',
    kind: 'TargetGroupBinding',
    metadata: { name: 'fraud-scorer-v7', namespace: 'fraud' },
    spec: {
      targetGroupARN: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/Routi-V7Tar-1A2B3C4D5E6F/0123456789abcdef',
      targetType: 'ip',
      serviceRef: { name: 'fraud-scorer-v7', port: 80 },
      ...spec,
    },
  };
}

test.each([
  ['Deployment', deployment()],
  ['NodePool', nodePool()],
  ['NodeClass', nodeClass()],
  ['TargetGroupBinding', targetGroupBinding()],
])('a valid %s passes', (_kind, object) => {
  expect(() => validateKubernetesObject(object)).not.toThrow();
});

test('a wrong-typed field fails, naming the object and the path', () => {
  expect(() => validateKubernetesObject(deployment({ replicas: 'two' }))).toThrow(
    /Deployment\/mlops\/mlflow[^\n]*\n\s+\/spec\/replicas must be integer/,
  );
});

test('a missing required field fails', () => {
  const { selector, ...withoutSelector } = deployment().spec;
  expect(() => validateKubernetesObject({ ...deployment(), spec: withoutSelector })).toThrow(
    '/spec must have required property selector',
  );
});

test('an unknown field fails where the schema forbids unknown fields', () => {
  // amiFamily belongs to self-managed Karpenter's EC2NodeClass, not to Auto Mode's NodeClass.
  expect(() => validateKubernetesObject(nodeClass({ amiFamily: 'AL2023' }))).toThrow('"additionalProperty":"amiFamily"');
});

test('a NodePool with a field out of range fails', () => {
  expect(() => validateKubernetesObject(nodePool({ weight: 101 }))).toThrow('NodePool/gpu (karpenter.sh/v1) does not match');
});

test('a NodeClass with an unknown network policy fails', () => {
  expect(() => validateKubernetesObject(nodeClass({ networkPolicy: 'Allow' }))).toThrow(
    /\/spec\/networkPolicy must be equal to one of the allowed values.*DefaultAllow/,
  );
});

test('a NodeClass with a namespace fails, as it is cluster-scoped', () => {
  const namespaced = { ...nodeClass(), metadata: { name: 'gpu', namespace: 'mlops' } };
  expect(() => validateKubernetesObject(namespaced)).toThrow('/metadata/namespace');
});

test('an AWS ID that is not one fails', () => {
  expect(() => validateKubernetesObject(nodeClass({ subnetSelectorTerms: [{ id: 'private-a' }] }))).toThrow(
    '/spec/subnetSelectorTerms/0/id must match pattern',
  );
});

test('a deploy-time value passes where an AWS ID is expected', () => {
  const fromCloudFormation = nodeClass({ subnetSelectorTerms: [{ id: DEPLOY_TIME_VALUE }], securityGroupSelectorTerms: [{ id: DEPLOY_TIME_VALUE }] });
  expect(() => validateKubernetesObject(fromCloudFormation)).not.toThrow();
});

test('a kind with no schema fails', () => {
  const certificate = { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'tls', namespace: 'mlops' } };
  expect(() => validateKubernetesObject(certificate)).toThrow('Certificate/mlops/tls: no schema for cert-manager.io/v1 Certificate');
});

test('a Karpenter kind that EKS Auto Mode does not serve has no schema', () => {
  const ec2NodeClass = { ...nodeClass(), apiVersion: 'karpenter.k8s.aws/v1', kind: 'EC2NodeClass' };
  expect(() => validateKubernetesObject(ec2NodeClass)).toThrow('no schema for karpenter.k8s.aws/v1 EC2NodeClass');
});

test('something without apiVersion and kind fails', () => {
  expect(() => validateKubernetesObject({ metadata: { name: 'x' } })).toThrow('not a Kubernetes object');
});

test('validating a list reports every failing object at once', () => {
  const objects = [deployment({ replicas: 'two' }), nodePool(), nodeClass({ networkPolicy: 'Allow' })];
  expect(() => validateKubernetesObjects(objects)).toThrow(
    /^2 of 3 Kubernetes objects fail validation:\nDeployment\/mlops\/mlflow[\s\S]*\nNodeClass\/gpu/,
  );
});

test('a TargetGroupBinding without targetType fails, as Auto Mode requires it', () => {
  const { targetType, ...withoutTargetType } = targetGroupBinding().spec;
  expect(() => validateKubernetesObject({ ...targetGroupBinding(), spec: withoutTargetType })).toThrow(
    "TargetGroupBinding/fraud/fraud-scorer-v7 (eks.amazonaws.com/v1) does not match its schema:\n  /spec must have required property 'targetType'",
  );
});

test('a TargetGroupBinding naming its group by targetGroupName fails, as Auto Mode takes only the ARN', () => {
  const { targetGroupARN, ...withoutArn } = targetGroupBinding().spec;
  const byName = { ...targetGroupBinding(), spec: { ...withoutArn, targetGroupName: 'fraud-scorer-v7' } };
  expect(() => validateKubernetesObject(byName)).toThrow(/required property 'targetGroupARN'[\s\S]*"additionalProperty":"targetGroupName"/);
});

test('a TargetGroupBinding with an upstream-only field fails', () => {
  const networking = { ingress: [{ from: [{ securityGroup: { groupID: 'sg-0123456789abcdef0' } }], ports: [{ port: 8080 }] }] };
  expect(() => validateKubernetesObject(targetGroupBinding({ networking }))).toThrow('"additionalProperty":"networking"');
});

test('a TargetGroupBinding without a namespace fails, as it must sit beside its Service', () => {
  const unplaced = { ...targetGroupBinding(), metadata: { name: 'fraud-scorer-v7' } };
  expect(() => validateKubernetesObject(unplaced)).toThrow(`/metadata must have required property 'namespace'`);
});

test('a TargetGroupBinding takes its ARN as a deploy-time value and its Service port by name', () => {
  const fromCloudFormation = targetGroupBinding({ targetGroupARN: DEPLOY_TIME_VALUE, serviceRef: { name: 'fraud-scorer-v7', port: 'http' } });
  expect(() => validateKubernetesObject(fromCloudFormation)).not.toThrow();
});
