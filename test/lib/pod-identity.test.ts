import { appliedManifests } from '../helpers/applied-manifests';
import { ENVIRONMENTS, STACK_IDS } from '../helpers/app';
import { committedConfig, committedTemplate } from '../helpers/committed-assembly';

type Resource = { Type: string; Properties?: Record<string, unknown>; DependsOn?: string[] | string };

/** A template's resources; a stack with nothing to deploy (no teams, no GPU pools) has no Resources section. */
const resourcesOf = (template: { Resources?: unknown }) => (template.Resources ?? {}) as Record<string, Resource>;

/** Logical IDs a resource waits for. */
const dependsOn = (resource: Resource): string[] => [resource.DependsOn ?? []].flat();

/** The role's logical ID behind an `Fn::GetAtt: [role, Arn]` or a `Ref: role`. */
function roleId(reference: unknown): string | undefined {
  const value = reference as { 'Fn::GetAtt'?: [string, string]; Ref?: string };
  return value?.['Fn::GetAtt']?.[0] ?? value?.Ref;
}

describe.each(ENVIRONMENTS)('Pod Identity in %s', (name) => {
  // EKS injects Pod Identity credentials only when a pod is admitted: a pod created before its
  // service account's association exists, or before its role may do anything, keeps failing
  // until someone restarts it. So every manifest that creates such a service account (and the
  // pods that use it) must wait for the association and for the role's policies.
  test.each(STACK_IDS)('every manifest in %s waits for the associations and policies of the service accounts it creates', (id) => {
    const resources = resourcesOf(committedTemplate(name, id).toJSON());
    const entries = Object.entries(resources);
    const associations = entries.filter(([, resource]) => resource.Type === 'AWS::EKS::PodIdentityAssociation');
    const policiesOf = (role: string) =>
      entries
        .filter(([, resource]) => resource.Type === 'AWS::IAM::Policy')
        .filter(([, resource]) => ((resource.Properties?.Roles as unknown[]) ?? []).some((reference) => roleId(reference) === role))
        .map(([logicalId]) => logicalId);

    for (const { logicalId, object } of appliedManifests({ Resources: resources })) {
      const account = object as { kind: string; metadata: { name: string; namespace?: string } };
      if (account.kind !== 'ServiceAccount') {
        continue;
      }
      for (const [associationId, association] of associations) {
        const properties = association.Properties ?? {};
        if (properties.Namespace !== account.metadata.namespace || properties.ServiceAccount !== account.metadata.name) {
          continue;
        }
        const role = roleId(properties.RoleArn) ?? '';
        expect({ manifest: logicalId, waitsFor: dependsOn(resources[logicalId]) }).toEqual({
          manifest: logicalId,
          waitsFor: expect.arrayContaining([associationId, role, ...policiesOf(role)]),
        });
      }
    }
  });

  // A role trusted by pods.eks.amazonaws.com alone can be taken by any association in the account
  // that names it; the session tags Pod Identity adds tie it to one service account of one cluster.
  test.each(STACK_IDS)('every Pod Identity role in %s trusts only its own service account, namespace and cluster', (id) => {
    const resources = resourcesOf(committedTemplate(name, id).toJSON());
    for (const association of Object.values(resources).filter((resource) => resource.Type === 'AWS::EKS::PodIdentityAssociation')) {
      const properties = association.Properties ?? {};
      const role = resources[roleId(properties.RoleArn) ?? ''];
      const statements = (role.Properties?.AssumeRolePolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
      expect(statements).toEqual([
        {
          Effect: 'Allow',
          Principal: { Service: 'pods.eks.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Condition: {
            StringEquals: {
              'aws:SourceAccount': committedConfig(name).account,
              'aws:RequestTag/kubernetes-namespace': properties.Namespace,
              'aws:RequestTag/kubernetes-service-account': properties.ServiceAccount,
            },
            ArnEquals: { 'aws:RequestTag/eks-cluster-arn': expect.anything() },
          },
        },
      ]);
      expect(properties.DisableSessionTags).not.toBe(true);
    }
  });

  test('every service account with pods that call AWS has an association in the stack that creates it', () => {
    const pairs = STACK_IDS.flatMap((id) => {
      const template = committedTemplate(name, id).toJSON();
      const resources = resourcesOf(template);
      const associated = Object.values(resources)
        .filter((resource) => resource.Type === 'AWS::EKS::PodIdentityAssociation')
        .map((resource) => `${resource.Properties?.Namespace}/${resource.Properties?.ServiceAccount}`);
      return appliedManifests(template)
        .map(({ object }) => object as { kind: string; metadata: { name: string; namespace?: string } })
        .filter((object) => object.kind === 'ServiceAccount')
        .map((account) => ({ account: `${account.metadata.namespace}/${account.metadata.name}`, associated: associated.includes(`${account.metadata.namespace}/${account.metadata.name}`) }));
    });
    expect(pairs.length).toBeGreaterThan(0);
    expect(pairs.filter((pair) => !pair.associated)).toEqual([]);
  });
});
