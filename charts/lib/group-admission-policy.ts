import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';

/** A rule of a ValidatingAdmissionPolicy: a CEL expression that must hold, and what to say when it does not. */
export interface AdmissionValidation {
  /** CEL over `object` and `oldObject`; the request is refused when it is false. */
  readonly expression: string;
  /** The refusal's message. */
  readonly message: string;
}

/** Properties of a {@link GroupAdmissionPolicy}. */
export interface GroupAdmissionPolicyProps {
  /** Name of the policy and of its binding. */
  readonly name: string;
  /** Namespace whose requests the policy judges. */
  readonly namespace: string;
  /** Kubernetes group whose requests the policy judges; requests of anyone else pass. */
  readonly group: string;
  /** Name of the match condition, for reading the policy. */
  readonly conditionName: string;
  /** API group, version, resource and operations the policy judges. */
  readonly resourceRule: { apiGroup: string; apiVersion: string; resource: string; operations: string[] };
  /** What every judged request must satisfy. */
  readonly validations: AdmissionValidation[];
}

/**
 * A ValidatingAdmissionPolicy and its binding that refuse, in one namespace and for one group's
 * requests only, what RBAC cannot tell apart (a field's value rather than the verb). The policy
 * fails closed: if its expressions cannot be evaluated, the request is refused.
 */
export class GroupAdmissionPolicy extends Construct {
  constructor(scope: Construct, id: string, props: GroupAdmissionPolicyProps) {
    super(scope, id);
    const { apiGroup, apiVersion, resource, operations } = props.resourceRule;
    new ApiObject(this, 'Policy', {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: props.name },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: { resourceRules: [{ apiGroups: [apiGroup], apiVersions: [apiVersion], operations, resources: [resource] }] },
        matchConditions: [{ name: props.conditionName, expression: `'${props.group}' in request.userInfo.groups` }],
        validations: props.validations.map(({ expression, message }) => ({ expression, message })),
      },
    });
    new ApiObject(this, 'Binding', {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: props.name },
      spec: {
        policyName: props.name,
        validationActions: ['Deny'],
        matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': props.namespace } } },
      },
    });
  }
}
