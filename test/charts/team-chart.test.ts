import { chartTestApp } from '../helpers/chart-app';
import { k8s } from 'cdk8s-plus-27';
import { MLFLOW_PORT, MLFLOW_SERVER_LABELS } from '../../charts/mlflow-chart';
import { MODEL_LABEL, SCORING_PORT } from '../../charts/model-serving-chart';
import { TeamChart } from '../../charts/team-chart';
import { findObject, KubeObject } from '../helpers/kube-objects';

const objects = new TeamChart(chartTestApp(), 'fraud', {
  team: 'fraud',
  quota: { cpu: 16, memoryGiB: 32, pods: 20, gpus: 2 },
  adminsGroup: 'mlops:fraud:admins',
  membersGroup: 'mlops:fraud:members',
  callableModels: [{ namespace: 'vision', model: 'image-tagger' }],
  awsApiCidrs: ['10.0.255.0/27', '10.0.255.32/27'],
}).toJson() as KubeObject[];

describe('TeamChart', () => {
  test('renders as the snapshot', () => {
    expect(objects).toMatchSnapshot();
  });

  test('creates the team namespace, enforcing the restricted Pod Security Standard and open to MLflow', () => {
    expect(findObject(objects, 'Namespace').metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'mlops.platform/tenant': 'true',
      'mlops.platform/team': 'fraud',
    });
  });

  test('caps CPU, memory, pods and GPUs with a ResourceQuota', () => {
    expect(findObject<k8s.ResourceQuotaSpec>(objects, 'ResourceQuota').spec.hard).toEqual({
      'requests.cpu': '16',
      'requests.memory': '32Gi',
      pods: '20',
      'requests.nvidia.com/gpu': '2',
    });
  });

  test('fills in requests and limits for containers that state none, so every pod counts against the quota', () => {
    expect(findObject<k8s.LimitRangeSpec>(objects, 'LimitRange').spec.limits).toEqual([
      { type: 'Container', defaultRequest: { cpu: '100m', memory: '128Mi' }, default: { cpu: '500m', memory: '512Mi' } },
    ]);
  });

  test("lets the team's members restart deployments in their namespace and nothing more", () => {
    expect(findObject(objects, 'Role', 'model-rollout')).toMatchObject({ rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'patch'] }] });
    expect(findObject(objects, 'RoleBinding', 'model-rollout')).toMatchObject({
      roleRef: { kind: 'Role', name: 'model-rollout' },
      subjects: [{ kind: 'Group', name: 'mlops:fraud:members' }],
    });
  });

  test('denies all traffic by default, then lets pods out to DNS, MLflow, HTTPS at the given AWS API addresses, the Pod Identity agent and the models that admit them', () => {
    expect(findObject(objects, 'NetworkPolicy', 'default-deny').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    expect(findObject<k8s.NetworkPolicySpec>(objects, 'NetworkPolicy', 'allow-platform-egress').spec.egress).toEqual([
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'mlflow' } }, podSelector: { matchLabels: MLFLOW_SERVER_LABELS } }],
        ports: [{ protocol: 'TCP', port: MLFLOW_PORT }],
      },
      { to: [{ ipBlock: { cidr: '10.0.255.0/27' } }, { ipBlock: { cidr: '10.0.255.32/27' } }], ports: [{ protocol: 'TCP', port: 443 }] },
      { to: [{ ipBlock: { cidr: '169.254.170.23/32' } }], ports: [{ protocol: 'TCP', port: 80 }] },
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'vision' } }, podSelector: { matchLabels: { [MODEL_LABEL]: 'image-tagger' } } }],
        ports: [{ protocol: 'TCP', port: SCORING_PORT }],
      },
    ]);
  });

  test("binds the team admins' group to the team-admin Role, which grants nothing in the networking API groups", () => {
    expect(findObject(objects, 'RoleBinding', 'team-admin')).toMatchObject({
      roleRef: { kind: 'Role', name: 'team-admin' },
      subjects: [{ kind: 'Group', name: 'mlops:fraud:admins' }],
    });
    const rules = findObject(objects, 'Role', 'team-admin').rules as { apiGroups: string[] }[];
    expect(rules.flatMap((rule) => rule.apiGroups)).not.toContainEqual(expect.stringMatching(/^(\*|networking\.k8s\.io|extensions)$/));
  });

  test("holds admins' Services to ClusterIP without externalIPs, in the team's namespace only", () => {
    const name = 'fraud-admins-cluster-ip-services';
    expect(findObject(objects, 'ValidatingAdmissionPolicy', name).spec).toMatchObject({
      failurePolicy: 'Fail',
      matchConditions: [{ name: 'team-admin', expression: "'mlops:fraud:admins' in request.userInfo.groups" }],
    });
    expect(findObject(objects, 'ValidatingAdmissionPolicyBinding', name).spec).toEqual({
      policyName: name,
      validationActions: ['Deny'],
      matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'fraud' } } },
    });
  });

  test("judges admins' ScaledObject creates and updates for triggers that authenticate as KEDA, in the team's namespace only", () => {
    const name = 'fraud-admins-no-keda-identity';
    expect(findObject(objects, 'ValidatingAdmissionPolicy', name).spec).toMatchObject({
      failurePolicy: 'Fail',
      matchConstraints: { resourceRules: [{ apiGroups: ['keda.sh'], apiVersions: ['v1alpha1'], operations: ['CREATE', 'UPDATE'], resources: ['scaledobjects'] }] },
      matchConditions: [{ name: 'team-admin', expression: "'mlops:fraud:admins' in request.userInfo.groups" }],
    });
    expect(findObject(objects, 'ValidatingAdmissionPolicyBinding', name).spec).toEqual({
      policyName: name,
      validationActions: ['Deny'],
      matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'fraud' } } },
    });
    // The Role grants no ScaledJobs, so ScaledObjects are the only KEDA triggers admins write.
    const rules = findObject(objects, 'Role', 'team-admin').rules as { apiGroups: string[]; resources: string[] }[];
    expect(rules.filter((rule) => rule.apiGroups.includes('keda.sh')).flatMap((rule) => rule.resources)).toEqual(['scaledobjects']);
  });

  test("denies members any deployment update but a restart, in the team's namespace only", () => {
    const policy = findObject<{ matchConditions: { expression: string }[]; validations: { expression: string }[]; failurePolicy: string }>(objects, 'ValidatingAdmissionPolicy', 'fraud-members-restart-only');
    expect(policy.spec.failurePolicy).toBe('Fail');
    expect(policy.spec.matchConditions).toEqual([{ name: 'team-member', expression: "'mlops:fraud:members' in request.userInfo.groups" }]);
    expect(policy.spec.validations[0].expression).toBe('object.spec.template.spec == oldObject.spec.template.spec && object.spec.replicas == oldObject.spec.replicas');
    expect(findObject(objects, 'ValidatingAdmissionPolicyBinding', policy.metadata.name).spec).toEqual({
      policyName: policy.metadata.name,
      validationActions: ['Deny'],
      matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'fraud' } } },
    });
  });
});
