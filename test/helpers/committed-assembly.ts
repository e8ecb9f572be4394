import * as fs from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { EnvironmentConfig } from '../../lib/config/schema';
import { committedEnvironments, ENVIRONMENTS, platformStageClass, STACK_IDS, StackId, stackOf, testApp } from './app';
import { scratchFolder } from './scratch';

/**
 * The committed environments, synthesized once per test run and read by every test file that
 * states something about them, instead of each file building and synthesizing its own stages.
 * They are read from `config/`, or from the folder MLOPS_CONFIG_DIR names (test/helpers/app.ts).
 *
 * The assembly is what `committedStage` used to give each file: one PlatformStage per committed
 * environment, built with cdk.json's context, built-in validation and asset staging off (the
 * compliance test runs the real app with both on). The first test file that asks for it
 * synthesizes it, so the run's other worker is not held up, into the folder that Jest's
 * globalSetup makes and globalTeardown removes (test/helpers/scratch.ts); files running in
 * parallel cannot see a half-written assembly, since it is moved into place whole.
 */

/** What the tests read from the constructs of a stack, recorded when the assembly is synthesized. */
export interface StackFacts {
  readonly account: string;
  readonly region: string;
  readonly stackName: string;
  readonly terminationProtection: boolean;
  /** The construct ids of the stage's stacks that this stack depends on. */
  readonly dependencies: string[];
  readonly artifactId: string;
  readonly templateFile: string;
}

/** What the tests read from the constructs of a stage, and the config it was built from. */
export interface StageFacts {
  /** The environment's config as the app loaded it (plain data, so it survives JSON). */
  readonly config: EnvironmentConfig;
  readonly account: string;
  readonly region: string;
  /** Construct ids of the stage's children, in order. */
  readonly children: string[];
  /** The stage's cloud assembly, relative to the app's. */
  readonly assemblyDirectory: string;
  readonly stacks: Record<StageStackId, StackFacts>;
}

/** A stack of a stage: one every stage has, or the stack of one model. */
export type StageStackId = StackId | `Model-${string}`;

const FACTS_FILE = 'stage-facts.json';

function synthesize(outdir: string): void {
  const app = testApp({ outdir });
  const PlatformStage = platformStageClass();
  const configs = committedEnvironments();
  const stages = configs.map((config) => new PlatformStage(app, config.name, { config }));
  app.synth();
  const facts: Record<string, StageFacts> = {};
  for (const [index, stage] of stages.entries()) {
    const stacks = Object.fromEntries(
      [...STACK_IDS.map((id) => stackOf(stage, id)), ...stage.models].map((stack) => {
        const id = stack.node.id;
        const stackFacts: StackFacts = {
          account: stack.account,
          region: stack.region,
          stackName: stack.stackName,
          terminationProtection: stack.terminationProtection,
          dependencies: stack.dependencies.map((dependency) => dependency.node.id),
          artifactId: stack.artifactId,
          templateFile: stack.templateFile,
        };
        return [id, stackFacts];
      }),
    ) as Record<StageStackId, StackFacts>;
    facts[stage.stageName] = {
      config: configs[index],
      account: stage.account!,
      region: stage.region!,
      children: stage.node.children.map((child) => child.node.id),
      assemblyDirectory: path.relative(outdir, stage.outdir),
      stacks,
    };
  }
  fs.writeFileSync(path.join(outdir, FACTS_FILE), JSON.stringify(facts, null, 2));
}

let folder: string | undefined;

/** The folder of the committed environments' assembly, synthesized on first use in this run. */
function assemblyFolder(): string {
  if (folder) {
    return folder;
  }
  const scratch = scratchFolder();
  const target = path.join(scratch, 'committed');
  if (!fs.existsSync(target)) {
    const partial = fs.mkdtempSync(path.join(scratch, 'partial-'));
    synthesize(partial);
    try {
      fs.renameSync(partial, target);
    } catch (error) {
      // Another worker moved its own into place first; theirs is the same.
      fs.rmSync(partial, { recursive: true, force: true });
      if (!fs.existsSync(target)) {
        throw error;
      }
    }
  }
  folder = target;
  return folder;
}

let facts: Record<string, StageFacts> | undefined;

/** What the tests read from the constructs of the committed environment `name`. */
export function committedStageFacts(name: string): StageFacts {
  facts ??= JSON.parse(fs.readFileSync(path.join(assemblyFolder(), FACTS_FILE), 'utf8')) as Record<string, StageFacts>;
  const stage = facts[name];
  if (!stage) {
    throw new Error(`no committed environment ${name} in the shared assembly (${ENVIRONMENTS.join(', ')})`);
  }
  return stage;
}

/** The ids of the model stacks of the committed environment `name`, in config order. */
export function committedModelStackIds(name: string): `Model-${string}`[] {
  return Object.keys(committedStageFacts(name).stacks).filter((id): id is `Model-${string}` => id.startsWith('Model-'));
}

/**
 * The config of the committed environment `name`, as the shared assembly was built from it: what
 * `committedEnvironment` returns, without loading the config schema in every test file.
 */
export function committedConfig(name: string): EnvironmentConfig {
  return structuredClone(committedStageFacts(name).config);
}

/** The folder of the cloud assembly of the committed environment `name`. */
export function committedStageDirectory(name: string): string {
  return path.join(assemblyFolder(), committedStageFacts(name).assemblyDirectory);
}

const assemblies = new Map<string, CloudAssembly>();

/** The cloud assembly of the committed environment `name`, as its stage's `synth()` returns it. */
export function committedStageAssembly(name: string): CloudAssembly {
  let assembly = assemblies.get(name);
  if (!assembly) {
    assembly = new CloudAssembly(committedStageDirectory(name));
    assemblies.set(name, assembly);
  }
  return assembly;
}

const templates = new Map<string, Template>();

/** The template of the stack `id` of the committed environment `name`, as `Template.fromStack` gives it. */
export function committedTemplate(name: string, id: StageStackId): Template {
  const key = `${name}/${id}`;
  let template = templates.get(key);
  if (!template) {
    const file = path.join(committedStageDirectory(name), committedStageFacts(name).stacks[id].templateFile);
    template = Template.fromJSON(JSON.parse(fs.readFileSync(file, 'utf8')));
    templates.set(key, template);
  }
  return template;
}
