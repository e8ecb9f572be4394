import { Template } from 'aws-cdk-lib/assertions';
import { TESTING_REPOSITORY_CONFIG } from './app';

const ASSET_HASH = /[0-9a-f]{64}/g;

/**
 * The template as JSON with asset hashes replaced, so a snapshot changes when the
 * infrastructure does and not when a bundled Lambda's source or the CDK version moves.
 */
export function normalizedTemplate(template: Template): unknown {
  const json = JSON.stringify(template.toJSON());
  // Names derived from an asset carry a prefix of its hash.
  const prefixes = [...new Set(json.match(ASSET_HASH) ?? [])].map((hash) => hash.slice(0, 12));
  const withoutHashes = json.replace(ASSET_HASH, '<asset-hash>');
  const normalized = prefixes.reduce((text, prefix) => text.split(prefix).join('<asset-hash>'), withoutHashes);
  // The migration Job is named by a hash of its spec, which holds the image's asset hash; the
  // chart test states when that name changes.
  return JSON.parse(normalized.replace(/mlflow-migrate-[0-9a-f]{12}/g, 'mlflow-migrate-<spec-hash>'));
}

/**
 * `test` for a snapshot of the committed environments, or `test.skip` when the suite tests another
 * config folder (MLOPS_CONFIG_DIR), whose templates the committed snapshots do not record.
 */
export const snapshotTest = TESTING_REPOSITORY_CONFIG ? test : test.skip;
