// Synthesizes one environment the way bin/ does (validation and policy packs on), for the benchmark.
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { addPolicyPacks } from '../lib/compliance';
import { loadEnvironments } from '../lib/config/load';
import { PlatformStage } from '../lib/platform-stage';
import * as cdkJson from '../cdk.json';

const [name, outdir] = process.argv.slice(2);
const loaded = loadEnvironments(path.join(__dirname, '..', 'config'));
const config = loaded.ok ? loaded.environments.find((environment) => environment.name === name) : undefined;
if (!config) {
  console.error(loaded.ok ? `no environment ${name}` : loaded.message);
  process.exit(1);
}
const app = new App({ outdir, context: { ...cdkJson.context, 'aws:cdk:version-reporting': false } });
addPolicyPacks(app);
new PlatformStage(app, config.name, { config });
app.synth();
