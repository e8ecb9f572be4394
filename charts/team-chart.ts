import { ApiObject, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { GPU_RESOURCE } from './cluster-config-chart';
import { MLFLOW_NAMESPACE, MLFLOW_PORT, MLFLOW_SERVER_LABELS } from './mlflow-chart';
import { MODEL_LABEL, SCORING_PORT } from './model-serving-chart';
import { PlatformNamespace } from './lib/platform-namespace';
import { awsApiEgress, tcpPort } from './lib/network-rules';

/** What a team's namespace may request in all. */
export interface TeamQuota {
  /** vCPUs. */
  readonly cpu: number;
  /** Memory in GiB. */
  readonly memoryGiB: number;
  /** Pods. */
  readonly pods: number;
  /** NVIDIA GPUs. */
  readonly gpus: number;
}

/** Properties of a {@link TeamChart}. */
export interface TeamChartProps {
  /** Team name, which is also its namespace. */
  readonly team: string;
  /** The namespace's ResourceQuota. */
  readonly quota: TeamQuota;
  /** Kubernetes group the team's members are mapped to by their EKS access entries. */
  readonly membersGroup: string;
  /** Models of other teams that list this namespace in their allowed callers. @default - none */
  readonly callableModels?: { readonly namespace: string; readonly model: string }[];
}

/**
 * A team's namespace: Pod Security Admission `restricted`, default-deny NetworkPolicies with DNS,
 * MLflow and AWS APIs allowed out, a ResourceQuota (GPUs included) with LimitRange defaults so
 * every pod counts against it, and a Role letting members restart their models.
 */
export class TeamChart extends Chart {
  constructor(scope: Construct, id: string, props: TeamChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const namespace = props.team;

    new PlatformNamespace(this, 'Namespace', { name: namespace, tenant: true, labels: { 'mlops.platform/team': props.team } });

    new k8s.KubeResourceQuota(this, 'Quota', {
      metadata: { name: 'team-quota', namespace },
      spec: {
        hard: {
          'requests.cpu': k8s.Quantity.fromString(String(props.quota.cpu)),
          'requests.memory': k8s.Quantity.fromString(`${props.quota.memoryGiB}Gi`),
          pods: k8s.Quantity.fromString(String(props.quota.pods)),
          [`requests.${GPU_RESOURCE}`]: k8s.Quantity.fromString(String(props.quota.gpus)),
        },
      },
    });

    // A quota on requests refuses pods without requests; these defaults fill them in.
    new k8s.KubeLimitRange(this, 'Defaults', {
      metadata: { name: 'container-defaults', namespace },
      spec: {
        limits: [
          {
            type: 'Container',
            defaultRequest: { cpu: k8s.Quantity.fromString('100m'), memory: k8s.Quantity.fromString('128Mi') },
            default: { cpu: k8s.Quantity.fromString('500m'), memory: k8s.Quantity.fromString('512Mi') },
          },
        ],
      },
    });

    // Viewing comes from the members' EKS access policy; this adds restarting a model
    // (`kubectl rollout restart`), the one change on-call data scientists need, and the admission
    // policy below keeps it to that.
    new k8s.KubeRole(this, 'RolloutRole', {
      metadata: { name: 'model-rollout', namespace },
      rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'patch'] }],
    });
    new k8s.KubeRoleBinding(this, 'RolloutBinding', {
      metadata: { name: 'model-rollout', namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'model-rollout' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: props.membersGroup }],
    });

    new k8s.KubeNetworkPolicy(this, 'AllowPlatformEgress', {
      metadata: { name: 'allow-platform-egress', namespace },
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': MLFLOW_NAMESPACE } },
                podSelector: { matchLabels: MLFLOW_SERVER_LABELS },
              },
            ],
            ports: [tcpPort(MLFLOW_PORT)],
          },
          // AWS APIs for the models' Pod Identity roles.
          ...awsApiEgress(),
          // The other side of each model's ingress rule that names this namespace.
          ...(props.callableModels ?? []).map((callee) => ({
            to: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': callee.namespace } },
                podSelector: { matchLabels: { [MODEL_LABEL]: callee.model } },
              },
            ],
            ports: [tcpPort(SCORING_PORT)],
          })),
        ],
      },
    });

    // RBAC cannot tell a restart from any other patch, and a changed pod template could run any
    // code under the model's IAM role; this lets members' updates through only if the pod
    // template's spec is unchanged (a restart only stamps an annotation).
    const policyName = `${props.team}-members-restart-only`;
    new ApiObject(this, 'MembersRestartOnly', {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: policyName },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['UPDATE'], resources: ['deployments'] }],
        },
        matchConditions: [{ name: 'team-member', expression: `'${props.membersGroup}' in request.userInfo.groups` }],
        validations: [
          {
            expression: 'object.spec.template.spec == oldObject.spec.template.spec && object.spec.replicas == oldObject.spec.replicas',
            message: 'team members may only restart a deployment (kubectl rollout restart); change models through the platform config',
          },
        ],
      },
    });
    new ApiObject(this, 'MembersRestartOnlyBinding', {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: policyName },
      spec: {
        policyName,
        validationActions: ['Deny'],
        matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } },
      },
    });
  }
}
