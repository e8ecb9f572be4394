import { ENVIRONMENTS, STACK_IDS } from '../helpers/app';
import { committedModelStackIds, committedTemplate } from '../helpers/committed-assembly';
import { roleStatements, Resources } from '../helpers/scheduled-job-fixture';

/** Every role of the committed environments that may publish metrics, with the namespaces it may publish to. */
function publishers(): { role: string; namespaces: unknown[] }[] {
  return ENVIRONMENTS.flatMap((name) =>
    [...STACK_IDS, ...committedModelStackIds(name)].flatMap((id) => {
      const resources = (committedTemplate(name, id).toJSON().Resources ?? {}) as Resources;
      return Object.keys(resources)
        .filter((roleId) => resources[roleId].Type === 'AWS::IAM::Role')
        .map((roleId) => ({
          role: `${name}/${id}/${roleId}`,
          namespaces: roleStatements(resources, roleId)
            .filter((statement) => [statement.Action].flat().includes('cloudwatch:PutMetricData'))
            .map((statement) => (statement.Condition as { StringEquals?: Record<string, unknown> } | undefined)?.StringEquals?.['cloudwatch:namespace']),
        }))
        .filter(({ namespaces }) => namespaces.length > 0);
    }),
  );
}

describe('the scheduled jobs’ metrics in the committed environments', () => {
  // IAM confines PutMetricData to a namespace but not to a dimension: two jobs publishing to one
  // namespace could each publish `Succeeded` for the other's model and silence its missed-run alarm.
  // Environments may share an account, so the namespaces differ across environments too.
  test('no two roles, in any environment, may publish to the same namespace, and each may publish to one namespace only', () => {
    const found = publishers();
    expect(found.length).toBeGreaterThan(0);
    for (const { role, namespaces } of found) {
      expect({ role, namespaces }).toEqual({ role, namespaces: [expect.stringMatching(/^MLOpsPlatform\//)] });
    }
    const namespaces = found.map(({ namespaces: [namespace] }) => namespace);
    expect(namespaces.filter((namespace, index) => namespaces.indexOf(namespace) !== index)).toEqual([]);
  });
});
