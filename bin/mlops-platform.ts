#!/usr/bin/env node
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { addPolicyPacks } from '../lib/compliance';
import { loadEnvironments } from '../lib/config/load';
import { buildPlatform } from '../lib/platform-app';

const app = new App();
// `-c configDir=<dir>` synthesizes another set of environment files, e.g. to try a change.
const configDir = app.node.tryGetContext('configDir') ?? path.join(__dirname, '..', 'config');
const loaded = loadEnvironments(configDir);
if (!loaded.ok) {
  console.error(loaded.message);
  process.exit(1);
}

addPolicyPacks(app);
buildPlatform(app, {
  environments: loaded.environments,
  bootstrapQualifier: app.node.tryGetContext('@aws-cdk/core:bootstrapQualifier'),
});
app.synth();
