import { KubectlV36Layer } from '@aws-cdk/lambda-layer-kubectl-v36';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { TeamNamespace } from '../../../lib/constructs/team-namespace';
import { testApp } from '../../helpers/app';
import { appliedManifests } from '../../helpers/applied-manifests';
import { accessEntryUsers } from '../../helpers/eks-access-policies';
import { findObject, KubeObject } from '../../helpers/kube-objects';
import { ApiRequest, decide, KubernetesUser } from '../../helpers/kubernetes-access';
import { validateKubernetesObjects } from '../../helpers/kubernetes-schema';

const TEAM = 'fraud';
const ADMIN = 'arn:aws:iam::111111111111:role/FraudAdmin';
const MEMBER = 'arn:aws:iam::111111111111:role/FraudMember';
const CLUSTER_ADMIN = 'arn:aws:iam::111111111111:role/PlatformAdmin';

// A cluster as PlatformCluster makes it: the CDK's kubectl role and `cluster.admins` get
// AmazonEKSClusterAdminPolicy. These two identities are the platform.
const stack = new Stack(testApp(), 'Test');
const cluster = new eks.Cluster(stack, 'Cluster', {
  version: eks.KubernetesVersion.V1_36,
  kubectlProviderOptions: { kubectlLayer: new KubectlV36Layer(stack, 'KubectlLayer') },
});
cluster.grantClusterAdmin('Admin', CLUSTER_ADMIN);
new TeamNamespace(stack, 'Team', { cluster, team: TEAM, admins: [ADMIN], members: [MEMBER], quota: { cpu: 8, memoryGiB: 16, pods: 20, gpus: 0 }, awsApiCidrs: ['10.0.255.0/27', '10.0.255.32/27'] });

const template = Template.fromStack(stack).toJSON();
const objects = appliedManifests(template).map(({ object }) => object as KubeObject);
const users = accessEntryUsers(template);

function user(key: string): KubernetesUser {
  const found = users.get(key);
  if (!found) {
    throw new Error(`no access entry for ${key}`);
  }
  return found;
}

const teamAdmin = user(ADMIN);
const teamMember = user(MEMBER);
const platform = [...users.values()].filter((candidate) => candidate.accessPolicies.some((policy) => policy.name === 'AmazonEKSClusterAdminPolicy'));

const core = { apiGroup: '', apiVersion: 'v1', namespace: TEAM };
const networking = { apiGroup: 'networking.k8s.io', apiVersion: 'v1', namespace: TEAM };
const defaultDeny = findObject(objects, 'NetworkPolicy', 'default-deny');

function service(name: string, spec: Record<string, unknown>): object {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: TEAM }, spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec } };
}

/** An Ingress on the platform's shared load balancer, in the team's namespace. */
function ingress(name: string, host: string, annotations: Record<string, string> = {}): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: TEAM, annotations },
    spec: {
      ingressClassName: 'platform',
      rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name, port: { number: 80 } } } }] } }],
    },
  };
}

/** MLflow's host name, ahead of MLflow's own rule on the shared load balancer. */
const MLFLOW_CAPTURE = { 'alb.ingress.kubernetes.io/group.order': '-1000' };

const deployment = (image: string, annotations: Record<string, string> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'fraud-scorer', namespace: TEAM },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'fraud-scorer' } },
    template: { metadata: { labels: { app: 'fraud-scorer' }, annotations }, spec: { containers: [{ name: 'model', image }] } },
  },
});

/** A KEDA trigger reading an ALB metric from CloudWatch, authenticated by `authenticationRef`. */
const cloudWatchTrigger = (authenticationRef?: Record<string, string>, metadata: Record<string, string> = {}) => ({
  type: 'aws-cloudwatch',
  ...(authenticationRef ? { authenticationRef } : {}),
  metadata: { awsRegion: 'eu-west-1', namespace: 'AWS/ApplicationELB', metricName: 'RequestCount', targetMetricValue: '100', minMetricValue: '0', ...metadata },
});

/** The platform's own CloudWatch trigger, through its ClusterTriggerAuthentication, as a model's ScaledObject has it. */
const PLATFORM_TRIGGER = cloudWatchTrigger({ name: 'aws-cloudwatch', kind: 'ClusterTriggerAuthentication' }, { dimensionName: 'TargetGroup', dimensionValue: 'targetgroup/fraud-scorer-v7/0123456789abcdef' });

const scaledObject = (triggers: object[], minReplicaCount = 2) => ({
  apiVersion: 'keda.sh/v1alpha1',
  kind: 'ScaledObject',
  metadata: { name: 'fraud-scorer-v7', namespace: TEAM },
  spec: { scaleTargetRef: { name: 'fraud-scorer-v7' }, minReplicaCount, maxReplicaCount: 10, triggers: [{ type: 'cpu', metricType: 'Utilization', metadata: { value: '60' } }, ...triggers] },
});
const keda = { ...core, apiGroup: 'keda.sh', apiVersion: 'v1alpha1', resource: 'scaledobjects' };

/** Requests that would undo the platform's isolation, with what refuses them for a team admin. */
const ISOLATION_BREAKERS: [string, ApiRequest, RegExp][] = [
  ['create a NetworkPolicy', { ...networking, verb: 'create', resource: 'networkpolicies', object: { ...defaultDeny, metadata: { name: 'allow-all', namespace: TEAM } } }, /forbidden/],
  ['change the default-deny NetworkPolicy', { ...networking, verb: 'update', resource: 'networkpolicies', name: 'default-deny', object: { ...defaultDeny, spec: { podSelector: { matchLabels: { none: 'none' } } } }, oldObject: defaultDeny }, /forbidden/],
  ['patch the default-deny NetworkPolicy', { ...networking, verb: 'patch', resource: 'networkpolicies', name: 'default-deny', object: defaultDeny, oldObject: defaultDeny }, /forbidden/],
  ['delete the default-deny NetworkPolicy', { ...networking, verb: 'delete', resource: 'networkpolicies', name: 'default-deny', oldObject: defaultDeny }, /forbidden/],
  ["create an Ingress that takes MLflow's host on the shared load balancer", { ...networking, verb: 'create', resource: 'ingresses', object: ingress('capture', 'mlflow.example.com', MLFLOW_CAPTURE) }, /forbidden/],
  ["change a model's Ingress to MLflow's host", { ...networking, verb: 'update', resource: 'ingresses', name: 'fraud-scorer', object: ingress('fraud-scorer', 'mlflow.example.com', MLFLOW_CAPTURE), oldObject: ingress('fraud-scorer', 'fraud-scorer.example.com') }, /forbidden/],
  ['create an Ingress through the old extensions API', { ...networking, apiGroup: 'extensions', apiVersion: 'v1beta1', verb: 'create', resource: 'ingresses', object: ingress('capture', 'mlflow.example.com', MLFLOW_CAPTURE) }, /forbidden/],
  ['create a LoadBalancer Service', { ...core, verb: 'create', resource: 'services', object: service('open', { type: 'LoadBalancer' }) }, /must be ClusterIP/],
  ['create a NodePort Service', { ...core, verb: 'create', resource: 'services', object: service('open', { type: 'NodePort' }) }, /must be ClusterIP/],
  ['turn a ClusterIP Service into a LoadBalancer', { ...core, verb: 'patch', resource: 'services', name: 'fraud-scorer', object: service('fraud-scorer', { type: 'LoadBalancer' }), oldObject: service('fraud-scorer', { type: 'ClusterIP' }) }, /must be ClusterIP/],
  ["capture other pods' traffic with a Service's externalIPs", { ...core, verb: 'create', resource: 'services', object: service('capture', { type: 'ClusterIP', externalIPs: ['10.0.0.10'] }) }, /externalIPs/],
  ["read any CloudWatch metric through the platform's ClusterTriggerAuthentication", { ...keda, verb: 'create', object: scaledObject([cloudWatchTrigger({ name: 'aws-cloudwatch', kind: 'ClusterTriggerAuthentication' }, { namespace: 'AWS/RDS', metricName: 'CPUUtilization' })]) }, /may not authenticate as KEDA/],
  ["point the platform's CloudWatch trigger of a model at another metric", { ...keda, verb: 'patch', name: 'fraud-scorer-v7', object: scaledObject([{ ...PLATFORM_TRIGGER, metadata: { ...PLATFORM_TRIGGER.metadata, namespace: 'AWS/SQS' } }]), oldObject: scaledObject([PLATFORM_TRIGGER]) }, /may not authenticate as KEDA/],
  ["add a trigger through the platform's ClusterTriggerAuthentication to a model's autoscaler", { ...keda, verb: 'update', name: 'fraud-scorer-v7', object: scaledObject([PLATFORM_TRIGGER, cloudWatchTrigger({ name: 'aws-cloudwatch', kind: 'ClusterTriggerAuthentication' })]), oldObject: scaledObject([PLATFORM_TRIGGER]) }, /may not authenticate as KEDA/],
  ["read CloudWatch with KEDA's own credentials (identityOwner operator, no authentication object)", { ...keda, verb: 'create', object: scaledObject([cloudWatchTrigger(undefined, { identityOwner: 'operator' })]) }, /may not authenticate as KEDA/],
];

/** A team admin's everyday work, which must stay allowed. */
const TEAM_WORK: [string, ApiRequest][] = [
  ['create a Deployment', { ...core, apiGroup: 'apps', verb: 'create', resource: 'deployments', object: deployment('model:2') }],
  ['roll a Deployment back (kubectl rollout undo)', { ...core, apiGroup: 'apps', verb: 'patch', resource: 'deployments', name: 'fraud-scorer', object: deployment('model:1'), oldObject: deployment('model:2') }],
  ['create a Service without a type (ClusterIP)', { ...core, verb: 'create', resource: 'services', object: service('internal', {}) }],
  ['create a ClusterIP Service', { ...core, verb: 'create', resource: 'services', object: service('internal', { type: 'ClusterIP' }) }],
  ['change a ClusterIP Service', { ...core, verb: 'update', resource: 'services', name: 'internal', object: service('internal', { type: 'ClusterIP', ports: [{ port: 8080 }] }), oldObject: service('internal', { type: 'ClusterIP' }) }],
  ['delete a LoadBalancer Service the platform made', { ...core, verb: 'delete', resource: 'services', name: 'open', oldObject: service('open', { type: 'LoadBalancer' }) }],
  ['create a ConfigMap', { ...core, verb: 'create', resource: 'configmaps', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: TEAM } } }],
  ['create a Secret', { ...core, verb: 'create', resource: 'secrets', object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mlflow-login', namespace: TEAM } } }],
  ['read a Secret', { ...core, verb: 'get', resource: 'secrets', name: 'mlflow-login' }],
  ['create a Job', { ...core, apiGroup: 'batch', verb: 'create', resource: 'jobs', object: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'train', namespace: TEAM } } }],
  ["raise an autoscaler's floor (the model's KEDA ScaledObject, keeping the platform's CloudWatch trigger)", { ...keda, verb: 'patch', name: 'fraud-scorer-v7', object: scaledObject([PLATFORM_TRIGGER], 4), oldObject: scaledObject([PLATFORM_TRIGGER]) }],
  ['create a ScaledObject whose trigger uses a TriggerAuthentication of the namespace (the kind KEDA takes when none is given)', { ...keda, verb: 'create', object: scaledObject([cloudWatchTrigger({ name: 'own-credentials' })]) }],
  ['create a ScaledObject whose trigger names a TriggerAuthentication and runs as the pod', { ...keda, verb: 'create', object: scaledObject([cloudWatchTrigger({ name: 'own-credentials', kind: 'TriggerAuthentication' }, { identityOwner: 'pod' })]) }],
  ['read logs', { ...core, verb: 'get', resource: 'pods', subresource: 'log', name: 'fraud-scorer-1' }],
  ['exec into a pod', { ...core, verb: 'create', resource: 'pods', subresource: 'exec', name: 'fraud-scorer-1' }],
  ['port-forward to a pod', { ...core, verb: 'get', resource: 'pods', subresource: 'portforward', name: 'fraud-scorer-1' }],
  ['read NetworkPolicies', { ...networking, verb: 'list', resource: 'networkpolicies' }],
  ['read Ingresses', { ...networking, verb: 'get', resource: 'ingresses', name: 'fraud-scorer' }],
];

describe('TeamNamespace', () => {
  test('applies only objects that match the Kubernetes 1.36 schemas', () => {
    expect(() => validateKubernetesObjects(objects)).not.toThrow();
  });

  test('has the platform as the CDK kubectl role and the configured cluster admin', () => {
    expect(platform).toHaveLength(2);
    expect(platform.map((identity) => identity.username)).toContain(CLUSTER_ADMIN);
  });

  test('gives admins and members only the view access policy, scoped to the namespace, and their own Kubernetes groups', () => {
    expect(teamAdmin).toMatchObject({ groups: ['mlops:fraud:admins', 'system:authenticated'], accessPolicies: [{ name: 'AmazonEKSViewPolicy', namespaces: [TEAM] }] });
    expect(teamMember).toMatchObject({ groups: ['mlops:fraud:members', 'system:authenticated'], accessPolicies: [{ name: 'AmazonEKSViewPolicy', namespaces: [TEAM] }] });
  });

  test.each(ISOLATION_BREAKERS)('does not let a team admin %s, but lets the platform', (_, request, reason) => {
    expect(decide(objects, teamAdmin, request)).toEqual({ allowed: false, reason: expect.stringMatching(reason) });
    for (const identity of platform) {
      expect(decide(objects, identity, request)).toEqual({ allowed: true });
    }
  });

  test.each(TEAM_WORK)('lets a team admin %s', (_, request) => {
    expect(decide(objects, teamAdmin, request)).toEqual({ allowed: true });
  });

  test.each([
    ['create a Service in another namespace', { ...core, namespace: 'vision', verb: 'create', resource: 'services', object: service('internal', {}) }],
    ['create a Role', { ...core, apiGroup: 'rbac.authorization.k8s.io', verb: 'create', resource: 'roles', object: {} }],
    ['impersonate a service account', { ...core, verb: 'impersonate', resource: 'serviceaccounts', name: 'fraud-scorer' }],
    ['create a DaemonSet', { ...core, apiGroup: 'apps', verb: 'create', resource: 'daemonsets', object: {} }],
    ['create a PersistentVolumeClaim', { ...core, verb: 'create', resource: 'persistentvolumeclaims', object: {} }],
    ['change the ResourceQuota', { ...core, verb: 'patch', resource: 'resourcequotas', name: 'team-quota', object: {}, oldObject: {} }],
  ] as [string, ApiRequest][])('refuses a team admin to %s', (_, request) => {
    expect(decide(objects, teamAdmin, request)).toMatchObject({ allowed: false, reason: expect.stringMatching(/forbidden/) });
  });

  test("lets members restart a model but not change its image, and nothing else that admins do", () => {
    const restart = { ...core, apiGroup: 'apps', verb: 'patch', resource: 'deployments', name: 'fraud-scorer', oldObject: deployment('model:2') } as const;
    expect(decide(objects, teamMember, { ...restart, object: deployment('model:2', { 'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z' }) })).toEqual({ allowed: true });
    expect(decide(objects, teamMember, { ...restart, object: deployment('model:1') })).toEqual({ allowed: false, reason: expect.stringMatching(/only restart/) });
    const writes = TEAM_WORK.filter(([, request]) => !['get', 'list', 'watch'].includes(request.verb));
    for (const [, request] of [...writes, ...ISOLATION_BREAKERS]) {
      expect(decide(objects, teamMember, request)).toMatchObject({ allowed: false });
    }
  });
});
