import { Template } from 'aws-cdk-lib/assertions';
import { ENVIRONMENTS, STACK_IDS } from '../helpers/app';
import { committedTemplate } from '../helpers/committed-assembly';

/** Resource types that hold data or guard it; a new logical ID means a new, empty resource. */
const STATEFUL_TYPES = [
  'AWS::RDS::DBInstance',
  'AWS::S3::Bucket',
  'AWS::ECR::Repository',
  'AWS::KMS::Key',
  'AWS::SecretsManager::Secret',
  'AWS::Logs::LogGroup',
];

const NETWORK = ['VpcFlowLogGroupF028B892', 'VpcLogsKey5A5E57C9'];
const DATA = [
  'ArtifactsAccessLogs4D97777C',
  'ArtifactsBucket88671897',
  'ArtifactsKeyA4B22E2B',
  'MlflowDatabaseInstance2F7DD6DC',
  'MlflowDatabaseKey9AA8CB48',
  'MlflowDatabasePostgresqlLogs12513BDF',
  'MlflowDatabaseSecret1F8FC682',
  'MlflowDatabaseUpgradeLogs11F4CBD7',
  'RepositoriesKey2E0C24DA',
  'RepositoriesMlflowServerEA5CD421',
  'RepositoriesModelfraudscorerE1B82F80',
  'RepositoriesModelimagetagger805FB27C',
];

const CLUSTER = [
  'ClusterControlPlaneLogsBEE81A47',
  'ClusterKeyB247D7DD',
  'ClusterKubectlProviderHandlerLogGroup190F6FEE',
  'ClusterKubectlProviderframeworkonEventLogGroup05BF3811',
];
const MLFLOW = ['MlflowAdminSecret5143D922', 'MlflowDatabaseAppSecret60344C38', 'MlflowFlaskSecretKeyF90B7B18', 'MlflowKey66751D46'];

/**
 * Logical IDs of every stateful resource, per environment and stack. Review a change here
 * like a schema migration: an ID that disappears is a resource CloudFormation replaces.
 */
const PINNED: Record<string, Record<string, string[]>> = {
  dev: { Network: NETWORK, Data: DATA, Cluster: CLUSTER, Mlflow: MLFLOW },
  staging: { Network: NETWORK, Data: DATA, Cluster: CLUSTER, Mlflow: MLFLOW },
  prod: { Network: NETWORK, Data: DATA, Cluster: CLUSTER, Mlflow: MLFLOW },
};

function statefulLogicalIds(template: Template): string[] {
  return STATEFUL_TYPES.flatMap((type) => Object.keys(template.findResources(type))).sort();
}

describe.each(ENVIRONMENTS)('%s stateful resources', (name) => {
  test('have logical IDs pinned for this environment', () => {
    if (!PINNED[name]) {
      throw new Error(`Environment ${name} has no pinned stateful logical IDs: add it to PINNED in ${__filename}.`);
    }
  });

  test.each(STACK_IDS)('keep their logical IDs in the %s stack', (stackId) => {
    const actual = statefulLogicalIds(committedTemplate(name, stackId));
    const pinned = PINNED[name]?.[stackId] ?? [];
    const gone = pinned.filter((id) => !actual.includes(id));
    const unpinned = actual.filter((id) => !pinned.includes(id));
    if (gone.length > 0) {
      throw new Error(
        `${name}/${stackId}: stateful resources ${gone.join(', ')} would be replaced` +
          (unpinned.length > 0 ? ` by ${unpinned.join(', ')}` : '') +
          '. A changed logical ID (a renamed or moved construct) makes CloudFormation create a new, empty resource ' +
          'and delete or orphan the old one with its data. Restore the construct id and path; if the replacement is ' +
          'really intended, migrate the data first and then update PINNED in this file.',
      );
    }
    if (unpinned.length > 0) {
      throw new Error(
        `${name}/${stackId}: new stateful resources ${unpinned.join(', ')} are not pinned. ` +
          'Add them to PINNED in this file so that a later rename cannot silently replace them.',
      );
    }
  });
});
