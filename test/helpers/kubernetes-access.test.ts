import { KubeObject } from './kube-objects';
import { ApiRequest, decide, KubernetesUser, ruleAllows } from './kubernetes-access';

const user: KubernetesUser = { username: 'alice', groups: ['team', 'system:authenticated'], accessPolicies: [] };
const createService: ApiRequest = { verb: 'create', apiGroup: '', apiVersion: 'v1', resource: 'services', namespace: 'team', object: { spec: { type: 'NodePort' } } };

function object(kind: string, name: string, fields: Record<string, unknown>, namespace?: string): KubeObject {
  return { apiVersion: 'v1', kind, metadata: { name, namespace }, spec: undefined, ...fields };
}

const role = (rules: object[]) => object('Role', 'r', { rules }, 'team');
const binding = (subject: object, namespace = 'team') => object('RoleBinding', 'b', { roleRef: { kind: 'Role', name: 'r' }, subjects: [subject] }, namespace);

function policy(spec: Record<string, unknown>, validationActions = ['Deny']): KubeObject[] {
  return [
    object('ValidatingAdmissionPolicy', 'p', { spec: { matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['services'] }] }, ...spec } }),
    object('ValidatingAdmissionPolicyBinding', 'p', { spec: { policyName: 'p', validationActions } }),
  ];
}

const allowAll = [role([{ apiGroups: [''], resources: ['services'], verbs: ['create'] }]), binding({ kind: 'Group', name: 'team' })];

describe('ruleAllows', () => {
  test('matches "*" in verbs, API groups and resources', () => {
    expect(ruleAllows({ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { ...createService, subresource: 'status' })).toBe(true);
  });

  test('matches a subresource only by its full name or "*/subresource"', () => {
    const exec: ApiRequest = { ...createService, resource: 'pods', subresource: 'exec' };
    expect(ruleAllows({ apiGroups: [''], resources: ['pods'], verbs: ['create'] }, exec)).toBe(false);
    expect(ruleAllows({ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }, exec)).toBe(true);
    expect(ruleAllows({ apiGroups: [''], resources: ['*/exec'], verbs: ['create'] }, exec)).toBe(true);
  });

  test('with resourceNames, matches only requests naming one of them, so never a create', () => {
    const rule = { apiGroups: [''], resources: ['services'], verbs: ['create', 'update'], resourceNames: ['web'] };
    expect(ruleAllows(rule, createService)).toBe(false);
    expect(ruleAllows(rule, { ...createService, verb: 'update', name: 'web' })).toBe(true);
    expect(ruleAllows(rule, { ...createService, verb: 'update', name: 'other' })).toBe(false);
  });

  test('does not match another API group', () => {
    expect(ruleAllows({ apiGroups: ['networking.k8s.io'], resources: ['services'], verbs: ['create'] }, createService)).toBe(false);
  });
});

describe('decide', () => {
  test("authorizes through a RoleBinding of the user's group in the request's namespace only", () => {
    expect(decide(allowAll, user, createService)).toEqual({ allowed: true });
    expect(decide([allowAll[0], binding({ kind: 'Group', name: 'team' }, 'other')], user, createService)).toMatchObject({ allowed: false });
    expect(decide([allowAll[0], binding({ kind: 'Group', name: 'someone-else' })], user, createService)).toMatchObject({ allowed: false });
  });

  test('authorizes through an EKS access policy in its namespaces only', () => {
    const viewer: KubernetesUser = { ...user, accessPolicies: [{ name: 'AmazonEKSEditPolicy', namespaces: ['team'] }] };
    expect(decide([], viewer, createService)).toEqual({ allowed: true });
    expect(decide([], viewer, { ...createService, namespace: 'other' })).toMatchObject({ allowed: false });
  });

  test('refuses what a Deny policy validates as false, with its message', () => {
    const objects = [...allowAll, ...policy({ validations: [{ expression: "object.spec.type == 'ClusterIP'", message: 'ClusterIP only' }] })];
    expect(decide(objects, user, createService)).toEqual({ allowed: false, reason: 'p: ClusterIP only' });
    expect(decide(objects, user, { ...createService, object: { spec: { type: 'ClusterIP' } } })).toEqual({ allowed: true });
  });

  test('skips a policy whose match condition is false, or whose binding only warns', () => {
    const validations = [{ expression: 'false' }];
    expect(decide([...allowAll, ...policy({ validations, matchConditions: [{ name: 'c', expression: "'admins' in request.userInfo.groups" }] })], user, createService)).toEqual({ allowed: true });
    expect(decide([...allowAll, ...policy({ validations }, ['Warn'])], user, createService)).toEqual({ allowed: true });
  });

  test('refuses when an expression fails under failurePolicy Fail, and ignores it under Ignore', () => {
    const validations = [{ expression: 'object.spec.missing == 1' }];
    expect(decide([...allowAll, ...policy({ validations })], user, createService)).toMatchObject({ allowed: false, reason: expect.stringMatching(/missing/) });
    expect(decide([...allowAll, ...policy({ validations, failurePolicy: 'Ignore' })], user, createService)).toEqual({ allowed: true });
  });

  test('throws on what it does not model rather than guessing', () => {
    expect(() => decide([...allowAll, ...policy({ paramKind: { kind: 'ConfigMap' } })], user, createService)).toThrow('paramKind not modelled');
    expect(() => decide([], { ...user, accessPolicies: [{ name: 'AmazonEKSAdminPolicy' }] }, createService)).toThrow('AmazonEKSAdminPolicy is not modelled');
    expect(() => decide([...allowAll, ...policy({ validations: [{ expression: '1 +' }] })], user, createService)).toThrow('CEL does not compile');
  });
});
