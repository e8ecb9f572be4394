import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { GPU_RESOURCE } from './cluster-config-chart';
import { MLFLOW_NAMESPACE } from '../lib/config/platform-names';
import { MLFLOW_PORT, MLFLOW_SERVER_LABELS } from './mlflow-chart';
import { MODEL_LABEL, SCORING_PORT } from './model-serving-chart';
import { CLUSTER_TRIGGER_AUTHENTICATION_KIND } from './lib/cloudwatch-trigger-authentication';
import { PlatformNamespace } from './lib/platform-namespace';
import { GroupAdmissionPolicy } from './lib/group-admission-policy';
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
  /** Kubernetes group the team's admins are mapped to by their EKS access entries. */
  readonly adminsGroup: string;
  /** Kubernetes group the team's members are mapped to by their EKS access entries. */
  readonly membersGroup: string;
  /** Models of other teams that list this namespace in their allowed callers. @default - none */
  readonly callableModels?: { readonly namespace: string; readonly model: string }[];
  /** CIDRs where the pods reach AWS APIs over HTTPS: the interface endpoints' subnets, or 0.0.0.0/0 where they go through NAT. */
  readonly awsApiCidrs: string[];
}

/** What a team admin may do to each kind of object they manage: everything. */
const MANAGE = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];

/**
 * A team's namespace: Pod Security Admission `restricted`, default-deny NetworkPolicies with DNS,
 * MLflow and AWS APIs allowed out, a ResourceQuota (GPUs included) with LimitRange defaults so
 * every pod counts against it, a Role letting admins run workloads but not change the network
 * (NetworkPolicies, Ingresses, Services other than ClusterIP) nor borrow KEDA's AWS identity, and a
 * Role letting members restart their models.
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

    // Viewing comes from the admins' EKS access policy; this adds running workloads. It leaves out
    // what would undo the platform's isolation: NetworkPolicies (the default-deny), Ingresses (a
    // host or a lower group order on the shared load balancer captures another service's
    // traffic), and, through the admission policy below, Services other than ClusterIP. Also left
    // out: DaemonSets (a pod on every node), PersistentVolumeClaims (the quota caps no storage),
    // PodDisruptionBudgets (they can stall node replacement), RBAC and impersonation.
    new k8s.KubeRole(this, 'AdminRole', {
      metadata: { name: 'team-admin', namespace },
      rules: [
        { apiGroups: [''], resources: ['pods', 'services', 'configmaps', 'secrets', 'serviceaccounts'], verbs: MANAGE },
        // kubectl exec, attach and port-forward open a WebSocket with GET; a POST stream needs create.
        { apiGroups: [''], resources: ['pods/exec', 'pods/attach', 'pods/portforward'], verbs: ['get', 'create'] },
        {
          apiGroups: ['apps'],
          resources: ['deployments', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale'],
          verbs: MANAGE,
        },
        // KEDA writes each model's HPA from its ScaledObject, so the floor and ceiling are changed there.
        { apiGroups: ['keda.sh'], resources: ['scaledobjects'], verbs: MANAGE },
        { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: MANAGE },
      ],
    });
    new k8s.KubeRoleBinding(this, 'AdminBinding', {
      metadata: { name: 'team-admin', namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'team-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: props.adminsGroup }],
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
          // AWS APIs for the models' and the jobs' Pod Identity roles.
          ...awsApiEgress(props.awsApiCidrs),
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
    new GroupAdmissionPolicy(this, 'MembersRestartOnly', {
      name: `${props.team}-members-restart-only`,
      namespace,
      group: props.membersGroup,
      conditionName: 'team-member',
      resourceRule: { apiGroup: 'apps', apiVersion: 'v1', resource: 'deployments', operations: ['UPDATE'] },
      validations: [
        {
          expression: 'object.spec.template.spec == oldObject.spec.template.spec && object.spec.replicas == oldObject.spec.replicas',
          message: 'team members may only restart a deployment (kubectl rollout restart); change models through the platform config',
        },
      ],
    });

    // RBAC cannot see a Service's type. A LoadBalancer or NodePort Service would open the
    // namespace past the shared load balancer and its allowed CIDRs, and externalIPs let a Service
    // capture other pods' traffic to any address (CVE-2020-8554). The platform's identities are
    // not in the admins' group, so its Services pass.
    new GroupAdmissionPolicy(this, 'AdminsClusterIpServices', {
      name: `${props.team}-admins-cluster-ip-services`,
      namespace,
      group: props.adminsGroup,
      conditionName: 'team-admin',
      resourceRule: { apiGroup: '', apiVersion: 'v1', resource: 'services', operations: ['CREATE', 'UPDATE'] },
      validations: [
        {
          expression: "!has(object.spec.type) || object.spec.type == 'ClusterIP'",
          message: "team admins' Services must be ClusterIP; models are exposed through the platform config",
        },
        {
          expression: '!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0',
          message: 'team admins may not set externalIPs on a Service',
        },
      ],
    });

    // The platform's ClusterTriggerAuthentication lets KEDA's operator read any CloudWatch metric of
    // the account with its own role, for any ScaledObject that names it; so does any AWS trigger
    // whose identityOwner is not `pod` (KEDA 2.20 then uses the operator's credentials, without any
    // authentication object). RBAC cannot see a trigger's fields, so admins' ScaledObjects may hold
    // such a trigger only as the platform wrote it (an update of a model's autoscaler keeps it).
    const actsAsKeda =
      `(has(trigger.authenticationRef) && has(trigger.authenticationRef.kind) && trigger.authenticationRef.kind == '${CLUSTER_TRIGGER_AUTHENTICATION_KIND}')` +
      " || (has(trigger.metadata) && 'identityOwner' in trigger.metadata && !(trigger.metadata.identityOwner in ['', 'pod']))";
    new GroupAdmissionPolicy(this, 'AdminsNoKedaIdentity', {
      name: `${props.team}-admins-no-keda-identity`,
      namespace,
      group: props.adminsGroup,
      conditionName: 'team-admin',
      resourceRule: { apiGroup: 'keda.sh', apiVersion: 'v1alpha1', resource: 'scaledobjects', operations: ['CREATE', 'UPDATE'] },
      validations: [
        {
          expression:
            `!has(object.spec) || !has(object.spec.triggers) || object.spec.triggers.all(trigger, !(${actsAsKeda})` +
            " || (request.operation == 'UPDATE' && has(oldObject.spec) && has(oldObject.spec.triggers) && trigger in oldObject.spec.triggers))",
          message: `team admins' ScaledObject triggers may not authenticate as KEDA (a ${CLUSTER_TRIGGER_AUTHENTICATION_KIND}, or identityOwner other than pod); only the platform's own triggers, unchanged, may`,
        },
      ],
    });
  }
}
