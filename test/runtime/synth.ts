// Synthesizes the runtime tier's environment (fixtures/runtime.yaml) into the folder given as the
// only argument, as the app does but without the policy packs and asset staging, which the unit
// tier covers: the runtime tests read the templates and the manifests in them.
// Usage: tsx test/runtime/synth.ts <output folder> [<config folder>]
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { loadEnvironments } from '../../lib/config/load';
import { buildPlatform } from '../../lib/platform-app';
import { cdkJsonContext } from '../helpers/app';

const [outdir, configDir = path.join(__dirname, 'fixtures')] = process.argv.slice(2);
if (!outdir) {
  console.error('usage: tsx test/runtime/synth.ts <output folder> [<config folder>]');
  process.exit(2);
}
const loaded = loadEnvironments(configDir);
if (!loaded.ok) {
  console.error(loaded.message);
  process.exit(1);
}
const app = new App({ outdir, builtinCloudFormationValidation: false, context: { ...cdkJsonContext(), 'aws:cdk:disable-asset-staging': true } });
buildPlatform(app, { environments: loaded.environments });
app.synth();
