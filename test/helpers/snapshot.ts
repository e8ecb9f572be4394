import { Template } from 'aws-cdk-lib/assertions';

const ASSET_HASH = /[0-9a-f]{64}/g;

/**
 * The template as JSON with asset hashes replaced, so a snapshot changes when the
 * infrastructure does and not when a bundled Lambda's source or the CDK version moves.
 */
export function normalizedTemplate(template: Template): unknown {
  return JSON.parse(JSON.stringify(template.toJSON()).replace(ASSET_HASH, '<asset-hash>'));
}
