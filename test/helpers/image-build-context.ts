import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import { cdkJsonContext } from './app';
import { scratchFolder } from './scratch';

/**
 * The files `cdk deploy` sends to `docker build` for an image asset of `directory` (and `file`, a
 * Dockerfile inside it): CDK stages the folder less what its `.dockerignore` excludes, with the
 * feature flags of cdk.json, and builds from the staged copy. Paths relative to the folder, sorted.
 */
export function stagedBuildContext(directory: string, file?: string): string[] {
  const outdir = fs.mkdtempSync(path.join(scratchFolder(), 'image-context-'));
  // The stack holds no resource, only the asset: nothing for CloudFormation's validation to check.
  const app = new App({ outdir, context: cdkJsonContext(), builtinCloudFormationValidation: false });
  const asset = new ecrAssets.DockerImageAsset(new Stack(app, 'Images'), 'Image', { directory, file });
  app.synth();
  const staged = path.join(outdir, `asset.${asset.assetHash}`);
  return (fs.readdirSync(staged, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(staged, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** The sources of a Dockerfile's COPY instructions, relative to its build context. */
export function copiedSources(dockerfile: string): string[] {
  return [...dockerfile.matchAll(/^COPY (?:--\S+ )*(.+) \S+$/gm)].flatMap((match) => match[1].split(' '));
}
