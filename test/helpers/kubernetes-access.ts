import { isCelError, parse, run, type CelInput } from '@bufbuild/cel';
import { EKS_ACCESS_POLICY_RULES, type PolicyRule } from './eks-access-policies';
import type { KubeObject } from './kube-objects';

/**
 * How the API server of an EKS cluster decides a request, worked out offline over the objects the
 * platform applies: authorization first (EKS access policies and Kubernetes RBAC; either one's
 * allow is enough, neither can deny), then ValidatingAdmissionPolicies, whose CEL is run by a
 * real CEL implementation. Only what the platform's objects use is modelled; anything else throws
 * rather than guessing. Kubernetes' built-in ClusterRoles and bindings are left out: they grant
 * authenticated users discovery and self-reviews, nothing in a namespace.
 *
 * Rules follow plugin/pkg/auth/authorizer/rbac/rbac.go and pkg/apis/rbac/v1/evaluation_helpers.go
 * in kubernetes/kubernetes; admission follows the ValidatingAdmissionPolicy reference
 * (kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/).
 */

/** An authenticated user, as an EKS access entry makes one. */
export interface KubernetesUser {
  readonly username: string;
  /** The access entry's Kubernetes groups and `system:authenticated`. */
  readonly groups: readonly string[];
  /** EKS access policies of the user's access entry; `namespaces` absent means the whole cluster. */
  readonly accessPolicies: readonly { readonly name: string; readonly namespaces?: readonly string[] }[];
}

/** A request for a namespaced resource. */
export interface ApiRequest {
  readonly verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'impersonate';
  /** API group, '' for the core group. */
  readonly apiGroup: string;
  readonly apiVersion: string;
  /** Plural resource name, such as `services`. */
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace: string;
  readonly name?: string;
  /** The object as it would be stored (create, update, patch). */
  readonly object?: object;
  /** The stored object (update, patch, delete). */
  readonly oldObject?: object;
}

/** Whether the API server lets a request through and, if not, what refused it. */
export type Decision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

const ALL = '*';

function matchesOrAll(values: readonly string[] | undefined, value: string): boolean {
  return (values ?? []).some((candidate) => candidate === ALL || candidate === value);
}

/** Kubernetes' RuleAllows for a resource request. */
export function ruleAllows(rule: PolicyRule, request: ApiRequest): boolean {
  const combined = request.subresource ? `${request.resource}/${request.subresource}` : request.resource;
  const resourceMatches = (rule.resources ?? []).some(
    (resource) => resource === ALL || resource === combined || (request.subresource !== undefined && resource === `*/${request.subresource}`),
  );
  const nameMatches = (rule.resourceNames ?? []).length === 0 || (request.name !== undefined && (rule.resourceNames ?? []).includes(request.name));
  return matchesOrAll(rule.verbs, request.verb) && matchesOrAll(rule.apiGroups, request.apiGroup) && resourceMatches && nameMatches;
}

interface Subject {
  kind: string;
  name: string;
}

function subjectMatches(subject: Subject, user: KubernetesUser): boolean {
  switch (subject.kind) {
    case 'Group':
      return user.groups.includes(subject.name);
    case 'User':
      return user.username === subject.name;
    case 'ServiceAccount':
      return false;
    default:
      throw new Error(`unsupported RBAC subject kind ${subject.kind}`);
  }
}

function rulesOf(objects: readonly KubeObject[], kind: 'Role' | 'ClusterRole', name: string, namespace?: string): PolicyRule[] {
  const role = objects.find((object) => object.kind === kind && object.metadata.name === name && (kind === 'ClusterRole' || object.metadata.namespace === namespace));
  if (role && 'aggregationRule' in role) {
    throw new Error(`aggregated ClusterRole ${name} is not modelled`);
  }
  // A binding to a missing role grants nothing.
  return (role?.rules as PolicyRule[] | undefined) ?? [];
}

/** The RBAC rules that apply to `user` in `namespace`. */
function rbacRules(objects: readonly KubeObject[], user: KubernetesUser, namespace: string): PolicyRule[] {
  return objects.flatMap((binding) => {
    const bindsHere = binding.kind === 'ClusterRoleBinding' || (binding.kind === 'RoleBinding' && binding.metadata.namespace === namespace);
    const subjects = (binding.subjects as Subject[] | undefined) ?? [];
    if (!bindsHere || !subjects.some((subject) => subjectMatches(subject, user))) {
      return [];
    }
    const roleRef = binding.roleRef as { kind: 'Role' | 'ClusterRole'; name: string };
    return rulesOf(objects, roleRef.kind, roleRef.name, namespace);
  });
}

/** The EKS access policies' rules that apply to `user` in `namespace`. */
function accessPolicyRules(user: KubernetesUser, namespace: string): PolicyRule[] {
  return user.accessPolicies.flatMap(({ name, namespaces }) => {
    const rules = EKS_ACCESS_POLICY_RULES[name];
    if (!rules) {
      throw new Error(`EKS access policy ${name} is not modelled`);
    }
    if (namespaces?.some((pattern) => pattern.includes('*'))) {
      throw new Error(`namespace wildcards in the scope of ${name} are not modelled`);
    }
    return namespaces === undefined || namespaces.includes(namespace) ? rules : [];
  });
}

/** Whether EKS authorizes the request: some rule of an access policy or of RBAC allows it. */
function authorizes(objects: readonly KubeObject[], user: KubernetesUser, request: ApiRequest): boolean {
  return [...accessPolicyRules(user, request.namespace), ...rbacRules(objects, user, request.namespace)].some((rule) => ruleAllows(rule, request));
}

/** JSON as CEL sees Kubernetes objects: objects are maps and whole numbers are ints. */
function toCel(value: unknown): CelInput {
  if (Array.isArray(value)) {
    return value.map(toCel);
  }
  if (value !== null && typeof value === 'object') {
    return new Map(Object.entries(value).map(([key, field]) => [key, toCel(field)]));
  }
  if (typeof value === 'number' && Number.isInteger(value)) {
    return BigInt(value);
  }
  return value as CelInput;
}

/** The result of one CEL expression: true, false, or why it failed. */
function evaluate(expression: string, bindings: Record<string, CelInput>): boolean | string {
  // The API server refuses a policy whose expressions do not compile.
  try {
    parse(expression);
  } catch (error) {
    throw new Error(`CEL does not compile: ${expression}`, { cause: error });
  }
  const result = run(expression, bindings);
  if (isCelError(result)) {
    return `${expression}: ${result.message}`;
  }
  if (typeof result !== 'boolean') {
    return `${expression}: evaluates to a non-boolean`;
  }
  return result;
}

interface ResourceRule {
  apiGroups?: string[];
  apiVersions?: string[];
  operations?: string[];
  resources?: string[];
  scope?: string;
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: unknown[];
}

interface PolicySpec {
  failurePolicy?: 'Fail' | 'Ignore';
  matchConstraints?: { resourceRules?: ResourceRule[]; [field: string]: unknown };
  matchConditions?: { name: string; expression: string }[];
  validations?: { expression: string; message?: string }[];
  [field: string]: unknown;
}

interface BindingSpec {
  policyName: string;
  validationActions: string[];
  matchResources?: { namespaceSelector?: LabelSelector; [field: string]: unknown };
  [field: string]: unknown;
}

const OPERATIONS: Record<ApiRequest['verb'], string | undefined> = {
  get: undefined,
  list: undefined,
  watch: undefined,
  create: 'CREATE',
  update: 'UPDATE',
  patch: 'UPDATE',
  delete: 'DELETE',
  deletecollection: 'DELETE',
  impersonate: undefined,
};

function unsupported(where: string, spec: object, supported: readonly string[]): void {
  const extra = Object.keys(spec).filter((field) => !supported.includes(field));
  if (extra.length > 0) {
    throw new Error(`${where}: ${extra.join(', ')} not modelled`);
  }
}

/** Admission's resource matching: '*' is every resource but no subresource, '*\/*' both. */
function resourceRuleMatches(rule: ResourceRule, request: ApiRequest, operation: string): boolean {
  unsupported('resourceRules', rule, ['apiGroups', 'apiVersions', 'operations', 'resources', 'scope']);
  const [resource, subresource] = [request.resource, request.subresource];
  const resourceMatches = (rule.resources ?? []).some((pattern) => {
    const [patternResource, patternSubresource] = pattern.split('/');
    return (patternResource === ALL || patternResource === resource) && (patternSubresource === ALL || patternSubresource === subresource);
  });
  return matchesOrAll(rule.operations, operation) && matchesOrAll(rule.apiGroups, request.apiGroup) && matchesOrAll(rule.apiVersions, request.apiVersion) && resourceMatches;
}

/** The labels of a namespace, with the name label the API server sets on every namespace. */
function namespaceLabels(objects: readonly KubeObject[], namespace: string): Record<string, string> {
  const object = objects.find((candidate) => candidate.kind === 'Namespace' && candidate.metadata.name === namespace);
  return { ...object?.metadata.labels, 'kubernetes.io/metadata.name': namespace };
}

function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (selector?.matchExpressions) {
    throw new Error('matchExpressions in a namespaceSelector are not modelled');
  }
  return Object.entries(selector?.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
}

/** Why a ValidatingAdmissionPolicy denies the request, or undefined if none does. */
function admissionRefusal(objects: readonly KubeObject[], user: KubernetesUser, request: ApiRequest): string | undefined {
  const operation = OPERATIONS[request.verb];
  if (!operation) {
    return undefined;
  }
  const bindings = objects.filter((object) => object.kind === 'ValidatingAdmissionPolicyBinding') as KubeObject<BindingSpec>[];
  for (const binding of bindings) {
    unsupported(`binding ${binding.metadata.name}`, binding.spec, ['policyName', 'validationActions', 'matchResources']);
    unsupported(`binding ${binding.metadata.name} matchResources`, binding.spec.matchResources ?? {}, ['namespaceSelector']);
    const policy = objects.find((object) => object.kind === 'ValidatingAdmissionPolicy' && object.metadata.name === binding.spec.policyName) as KubeObject<PolicySpec> | undefined;
    if (!policy) {
      throw new Error(`binding ${binding.metadata.name} names no policy in the objects`);
    }
    const name = policy.metadata.name;
    unsupported(`policy ${name}`, policy.spec, ['failurePolicy', 'matchConstraints', 'matchConditions', 'validations']);
    unsupported(`policy ${name} matchConstraints`, policy.spec.matchConstraints ?? {}, ['resourceRules']);
    const labels = namespaceLabels(objects, request.namespace);
    const matches =
      (policy.spec.matchConstraints?.resourceRules ?? []).some((rule) => resourceRuleMatches(rule, request, operation)) &&
      selects(binding.spec.matchResources?.namespaceSelector, labels);
    if (!matches || !binding.spec.validationActions.includes('Deny')) {
      continue;
    }
    const bindingsForCel = {
      object: toCel(operation === 'DELETE' ? null : request.object ?? null),
      oldObject: toCel(operation === 'CREATE' ? null : request.oldObject ?? null),
      request: toCel({
        operation,
        namespace: request.namespace,
        name: request.name ?? '',
        resource: { group: request.apiGroup, version: request.apiVersion, resource: request.resource },
        subResource: request.subresource ?? '',
        userInfo: { username: user.username, groups: user.groups },
      }),
      params: null,
      namespaceObject: toCel({ metadata: { name: request.namespace, labels } }),
    };
    // A failing expression counts as a refusal only under failurePolicy Fail (the default).
    const failure = (reason: string) => ((policy.spec.failurePolicy ?? 'Fail') === 'Fail' ? `${name}: ${reason}` : undefined);
    const conditions = (policy.spec.matchConditions ?? []).map((condition) => evaluate(condition.expression, bindingsForCel));
    const conditionError = conditions.find((result) => typeof result === 'string');
    if (conditionError !== undefined) {
      const refusal = failure(conditionError as string);
      if (refusal) {
        return refusal;
      }
      continue;
    }
    if (conditions.includes(false)) {
      continue;
    }
    for (const validation of policy.spec.validations ?? []) {
      const result = evaluate(validation.expression, bindingsForCel);
      if (result === false) {
        return `${name}: ${validation.message ?? `failed expression: ${validation.expression}`}`;
      }
      if (typeof result === 'string') {
        const refusal = failure(result);
        if (refusal) {
          return refusal;
        }
      }
    }
  }
  return undefined;
}

/** What the API server answers: authorization, then admission. */
export function decide(objects: readonly KubeObject[], user: KubernetesUser, request: ApiRequest): Decision {
  if (!authorizes(objects, user, request)) {
    const resource = request.subresource ? `${request.resource}/${request.subresource}` : request.resource;
    return { allowed: false, reason: `forbidden: ${request.verb} ${resource}${request.apiGroup ? `.${request.apiGroup}` : ''} in ${request.namespace}` };
  }
  const refusal = admissionRefusal(objects, user, request);
  return refusal === undefined ? { allowed: true } : { allowed: false, reason: refusal };
}
