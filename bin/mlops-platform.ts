#!/usr/bin/env node
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { addPolicyPacks } from '../lib/compliance';
import { loadEnvironments } from '../lib/config/load';
import { selectEnvironments } from '../lib/config/selection';
import { buildPlatform } from '../lib/platform-app';

const app = new App();
// `-c configDir=<dir>` synthesizes another set of environment files, e.g. to try a change.
const configDir = app.node.tryGetContext('configDir') ?? path.join(__dirname, '..', 'config');
const loaded = loadEnvironments(configDir);
if (!loaded.ok) {
  console.error(loaded.message);
  process.exit(1);
}
// `-c environments=prod,staging` builds (and validates) only those environments: `npm run synth -- prod staging`.
const selection = selectEnvironments(loaded.environments, app.node.tryGetContext('environments'));
if (!selection.ok) {
  console.error(selection.message);
  process.exit(1);
}

// `-c validationCache=false` validates every template anew instead of reusing findings of unchanged templates.
addPolicyPacks(app, { validationCache: String(app.node.tryGetContext('validationCache')) === 'false' ? false : undefined });
buildPlatform(app, {
  environments: loaded.environments,
  selected: selection.environments,
  bootstrapQualifier: app.node.tryGetContext('@aws-cdk/core:bootstrapQualifier'),
});
app.synth();
