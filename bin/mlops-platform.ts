#!/usr/bin/env node
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { addPolicyPacks } from '../lib/compliance';
import { loadEnvironments } from '../lib/config/load';
import { PlatformStage } from '../lib/platform-stage';

const loaded = loadEnvironments(path.join(__dirname, '..', 'config'));
if (!loaded.ok) {
  console.error(loaded.message);
  process.exit(1);
}

const app = new App();
addPolicyPacks(app);
for (const config of loaded.environments) {
  new PlatformStage(app, config.name, { config });
}
app.synth();
