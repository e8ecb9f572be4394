import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
// The config loader (zod, yaml) and the app are loaded on first use: most test files read the
// shared assembly (test/helpers/committed-assembly.ts) and never load a config or build a stage.
import type { EnvironmentConfig } from '../../lib/config/schema';
import type { PlatformStage } from '../../lib/platform-stage';
import { scratchFolder } from './scratch';

export const REPO_ROOT = path.join(__dirname, '..', '..');

/**
 * The environment variable that points the suite at another config folder, e.g. a copy of
 * `config/` with an adopter's changes: `MLOPS_CONFIG_DIR=path/to/config npx jest`. Tests over
 * "the committed environments" then read that folder, and its locks in `locks/` beside it
 * (scripts/pin.ts); snapshot comparisons, which record the committed folder, are skipped.
 */
export const CONFIG_DIR_ENV = 'MLOPS_CONFIG_DIR';

/** The config folder the suite tests: the repository's, unless MLOPS_CONFIG_DIR names another. */
export const CONFIG_DIR = process.env[CONFIG_DIR_ENV] ? path.resolve(process.env[CONFIG_DIR_ENV]) : path.join(REPO_ROOT, 'config');

/** Whether the suite tests the repository's own config folder, which the committed snapshots record. */
export const TESTING_REPOSITORY_CONFIG = CONFIG_DIR === path.join(REPO_ROOT, 'config');

/** The feature flags and settings of cdk.json, so tests synthesize what `cdk synth` does. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8'));
  return { ...cdkJson.context, 'aws:cdk:version-reporting': false };
}

/** The committed environments, as the app loads them. */
export function committedEnvironments(): EnvironmentConfig[] {
  const { loadEnvironments } = require('../../lib/config/load') as typeof import('../../lib/config/load');
  const loaded = loadEnvironments(CONFIG_DIR);
  if (!loaded.ok) {
    throw new Error(loaded.message);
  }
  return loaded.environments;
}

/** The smallest valid CPU model; teams in fixtures list it, spread with what a test changes. */
export const MINIMAL_MODEL = {
  name: 'churn',
  registeredModel: 'churn',
  versions: [{ name: 'v1', alias: 'champion', imageTag: '1.0.0', autoscaling: { minReplicas: 2, maxReplicas: 4 }, podRequestsPerSecond: 50 }],
  capacity: { peakRequestsPerSecond: 100 },
};

/** The minimal model's only version; tests spread it to change one field of a version. */
export const MINIMAL_VERSION = MINIMAL_MODEL.versions[0];

/**
 * The smallest valid environment: no team, GPU pool or CI. Tests spread it and add what they are about,
 * so a change to the required fields is made here once.
 */
export const MINIMAL_ENVIRONMENT = {
  environmentType: 'development',
  account: '123456789012',
  region: 'eu-west-1',
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  cluster: { addons: { 'metrics-server': 'v0.8.0-eksbuild.2' } },
  mlflow: { hostname: 'mlflow.sandbox.example.internal' },
};

/**
 * An environment built from `settings` as the loader builds one from `config/<name>.yaml`
 * (validated, defaults filled), for behaviour tests that must not depend on what the committed
 * files hold. A config problem throws the loader's message.
 */
export function fixtureEnvironment(settings: Record<string, unknown>, name = 'sandbox'): EnvironmentConfig {
  const { validateEnvironments } = require('../../lib/config/load') as typeof import('../../lib/config/load');
  // JSON is YAML, so the settings go through the same parser as a config file.
  const loaded = validateEnvironments([{ file: `config/${name}.yaml`, text: JSON.stringify(settings) }]);
  if (!loaded.ok) {
    throw new Error(loaded.message);
  }
  return loaded.environments[0];
}

/**
 * A config folder of its own in the run's scratch folder, with a `<name>.yaml` for each entry of
 * `environments`, for tests of scripts that take `--config <folder>`.
 */
export function fixtureConfigFolder(environments: Record<string, Record<string, unknown>>): string {
  const folder = fs.mkdtempSync(path.join(scratchFolder(), 'config-'));
  for (const [name, settings] of Object.entries(environments)) {
    // JSON is YAML.
    fs.writeFileSync(path.join(folder, `${name}.yaml`), JSON.stringify(settings));
  }
  return folder;
}

/** The committed environment called `name`. */
export function committedEnvironment(name: string): EnvironmentConfig {
  const config = committedEnvironments().find((environment) => environment.name === name);
  if (!config) {
    throw new Error(`no ${path.join(path.relative(REPO_ROOT, CONFIG_DIR), name)}.yaml`);
  }
  return config;
}

/**
 * An app with cdk.json's context. The built-in CloudFormation validation is off unless asked
 * for: it costs seconds per synth, and one test runs it over every environment
 * (test/lib/compliance.test.ts, which synthesizes exactly as the CLI does, staging included).
 */
export function testApp(options: { validation?: boolean; outdir?: string } = {}): App {
  return new App({
    // Asset staging copies the 37 MB kubectl layer into every test's cloud assembly; templates and
    // asset manifests are the same without it.
    context: { ...cdkJsonContext(), 'aws:cdk:disable-asset-staging': true },
    builtinCloudFormationValidation: options.validation ?? false,
    outdir: options.outdir,
  });
}

/** The PlatformStage class, loaded with the whole app on first use. */
export function platformStageClass(): typeof PlatformStage {
  return (require('../../lib/platform-stage') as typeof import('../../lib/platform-stage')).PlatformStage;
}

/** One environment's stage in a fresh test app. */
export function testStage(config: EnvironmentConfig): PlatformStage {
  return new (platformStageClass())(testApp(), config.name, { config });
}

const stages = new Map<string, PlatformStage>();

/**
 * The stage of a committed environment, built once per test file. Tests that only read templates
 * or stack properties use test/helpers/committed-assembly.ts instead, synthesized once per run.
 */
export function committedStage(name: string): PlatformStage {
  let stage = stages.get(name);
  if (!stage) {
    stage = testStage(committedEnvironment(name));
    stages.set(name, stage);
  }
  return stage;
}

/**
 * Names of the committed environments, for `describe.each`: the loader names each environment
 * after its file, so they are read from the file names without loading and validating the files.
 */
export const ENVIRONMENTS = fs
  .readdirSync(CONFIG_DIR)
  .filter((file) => file.endsWith('.yaml'))
  .sort()
  .map((file) => path.basename(file, '.yaml'));

/** The stacks of a stage, in deployment order. */
/** The stacks every stage has, in order; one stack per model (`Model-<name>`) comes between Serving and Monitoring. */
export const STACK_IDS = ['Network', 'Data', 'Cluster', 'Ingress', 'Mlflow', 'Serving', 'Monitoring'] as const;

/** The id of one of a stage's stacks. */
export type StackId = (typeof STACK_IDS)[number];

/** The stack of `stage` called `id`. */
export function stackOf(stage: PlatformStage, id: StackId): Stack {
  return { Network: stage.network, Data: stage.data, Cluster: stage.cluster, Ingress: stage.ingress, Mlflow: stage.mlflow, Serving: stage.serving, Monitoring: stage.monitoring }[id];
}
