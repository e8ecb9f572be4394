import type { KubernetesUser } from './kubernetes-access';

/** An RBAC rule, as in a Role, a ClusterRole or an EKS access policy. */
export interface PolicyRule {
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
}

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];

/** The read rules AmazonEKSViewPolicy holds, which AmazonEKSEditPolicy holds too. */
const VIEW_RULES: PolicyRule[] = [
  {
    apiGroups: ['apps'],
    resources: [
      'controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets',
      'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status',
    ],
    verbs: READ,
  },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers', 'horizontalpodautoscalers/status'], verbs: READ },
  { apiGroups: ['batch'], resources: ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status'], verbs: READ },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
  {
    apiGroups: ['extensions'],
    resources: [
      'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'ingresses', 'ingresses/status',
      'networkpolicies', 'replicasets', 'replicasets/scale', 'replicasets/status', 'replicationcontrollers/scale',
    ],
    verbs: READ,
  },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'ingresses/status', 'networkpolicies'], verbs: READ },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets', 'poddisruptionbudgets/status'], verbs: READ },
  {
    apiGroups: [''],
    resources: [
      'configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers',
      'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status',
    ],
    verbs: READ,
  },
  {
    apiGroups: [''],
    resources: [
      'bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas',
      'resourcequotas/status',
    ],
    verbs: READ,
  },
  { apiGroups: [''], resources: ['namespaces'], verbs: READ },
];

/**
 * The rules of the EKS access policies the platform associates, or used to, as the EKS User Guide
 * lists them ("Review access policy permissions", docs.aws.amazon.com/eks/latest/userguide/
 * access-policy-permissions.html). AWS owns their contents; a policy missing here is refused by
 * the evaluator rather than guessed.
 */
export const EKS_ACCESS_POLICY_RULES: Record<string, readonly PolicyRule[]> = {
  AmazonEKSClusterAdminPolicy: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
  AmazonEKSViewPolicy: VIEW_RULES,
  AmazonEKSEditPolicy: [
    ...VIEW_RULES,
    {
      apiGroups: ['apps'],
      resources: ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale'],
      verbs: WRITE,
    },
    { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: WRITE },
    { apiGroups: ['batch'], resources: ['cronjobs', 'jobs'], verbs: WRITE },
    {
      apiGroups: ['extensions'],
      resources: [
        'daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'ingresses', 'networkpolicies', 'replicasets', 'replicasets/scale',
        'replicationcontrollers/scale',
      ],
      verbs: WRITE,
    },
    { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'networkpolicies'], verbs: WRITE },
    { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: WRITE },
    { apiGroups: [''], resources: ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy'], verbs: READ },
    { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] },
    { apiGroups: [''], resources: ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy'], verbs: WRITE },
    {
      apiGroups: [''],
      resources: [
        'configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts',
        'services', 'services/proxy',
      ],
      verbs: WRITE,
    },
  ],
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A policy ARN's name: the ARN is a string or, with the partition filled in, an Fn::Join. */
function policyName(policyArn: unknown): string {
  const join = isRecord(policyArn) ? policyArn['Fn::Join'] : undefined;
  const text = Array.isArray(join) ? (join[1] as unknown[]).filter((part) => typeof part === 'string').join('') : policyArn;
  const match = typeof text === 'string' ? /cluster-access-policy\/(.+)$/.exec(text) : null;
  if (!match) {
    throw new Error(`not an EKS access policy ARN: ${JSON.stringify(policyArn)}`);
  }
  return match[1];
}

/**
 * The Kubernetes user of each access entry in a template, keyed by the entry's principal ARN when
 * it is a literal and by the entry's logical ID when CloudFormation fills it in (a role's GetAtt).
 */
export function accessEntryUsers(template: { Resources?: Record<string, unknown> }): Map<string, KubernetesUser> {
  const users = new Map<string, KubernetesUser>();
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (!isRecord(resource) || resource.Type !== 'AWS::EKS::AccessEntry' || !isRecord(resource.Properties)) {
      continue;
    }
    const { PrincipalArn, KubernetesGroups, AccessPolicies } = resource.Properties as {
      PrincipalArn: unknown;
      KubernetesGroups?: string[];
      AccessPolicies?: { PolicyArn: unknown; AccessScope: { Type: string; Namespaces?: string[] } }[];
    };
    const key = typeof PrincipalArn === 'string' ? PrincipalArn : logicalId;
    users.set(key, {
      username: key,
      groups: [...(KubernetesGroups ?? []), 'system:authenticated'],
      accessPolicies: (AccessPolicies ?? []).map(({ PolicyArn, AccessScope }) => ({
        name: policyName(PolicyArn),
        namespaces: AccessScope.Type === 'namespace' ? AccessScope.Namespaces ?? [] : undefined,
      })),
    });
  }
  return users;
}
