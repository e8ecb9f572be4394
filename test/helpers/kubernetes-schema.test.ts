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

function ingressClassParams(spec: Record<string, unknown> = {}) {
  return {
    apiVersion: 'eks.amazonaws.com/v1',
    kind: 'IngressClassParams',
    metadata: { name: 'internal-alb' },
    spec: {
      scheme: 'internal',
      group: { name: 'mlops' },
      subnets: { ids: ['subnet-0123456789abcdef0'] },
      certificateARNs: ['arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d'],
      loadBalancerAttributes: [{ key: 'idle_timeout.timeout_seconds', value: '120' }],
      ...spec,
    },
  };
}

test.each([
  ['Deployment', deployment()],
  ['NodePool', nodePool()],
  ['NodeClass', nodeClass()],
  ['IngressClassParams', ingressClassParams()],
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

test('an IngressClassParams with an unknown scheme fails', () => {
  expect(() => validateKubernetesObject(ingressClassParams({ scheme: 'public' }))).toThrow(
    'IngressClassParams/internal-alb (eks.amazonaws.com/v1) does not match its schema:\n  /spec/scheme',
  );
});

test('an AWS ID that is not one fails', () => {
  expect(() => validateKubernetesObject(ingressClassParams({ subnets: { ids: ['private-a'] } }))).toThrow(
    '/spec/subnets/ids/0 must match pattern',
  );
});

test('a deploy-time value passes where an AWS ID, ARN or CIDR block is expected', () => {
  const subnets = { ids: [DEPLOY_TIME_VALUE] };
  const fromCloudFormation = ingressClassParams({ subnets, certificateARNs: [DEPLOY_TIME_VALUE], inboundCIDRs: [DEPLOY_TIME_VALUE] });
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
