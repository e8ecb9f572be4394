import * as fs from 'node:fs';
import * as path from 'node:path';
import { Document, isScalar, parseDocument } from 'yaml';
import { z } from 'zod';
import { ipv4CidrsOverlap } from './cidr';
import { configErrorMap, display } from './messages';
import { EnvironmentConfig, environmentSchema } from './schema';

/** One thing wrong with a config file. */
export interface ConfigProblem {
  /** The file, as given to the loader. */
  readonly file: string;
  /** Path of the field, e.g. `teams[0].name`; empty for the whole file. */
  readonly field: string;
  /** What is wrong and what is allowed. */
  readonly message: string;
  /** The value found, when there is one. */
  readonly received?: unknown;
}

/** The outcome of loading every environment: all of them, or every problem found. */
export type LoadResult =
  | { readonly ok: true; readonly environments: EnvironmentConfig[] }
  | { readonly ok: false; readonly problems: ConfigProblem[]; readonly message: string };

const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{0,15}$/;

/**
 * Reads every `*.yaml` file of `configDir` as one environment named after the file,
 * validates each against the schema and all of them against each other.
 */
export function loadEnvironments(configDir: string): LoadResult {
  const refuse = (problems: ConfigProblem[]): LoadResult => ({ ok: false, problems, message: formatProblems(problems) });
  if (!fs.existsSync(configDir) || !fs.statSync(configDir).isDirectory()) {
    return refuse([{ file: configDir, field: '', message: 'is not a folder: name the folder that holds the <environment>.yaml files' }]);
  }
  const entries = fs.readdirSync(configDir).sort();
  // Anything else in the folder is a mistake that would silently drop an environment
  // (prod.yml, prod.yaml.bak) or leave a file nobody reads.
  const strays = entries.filter((entry) => !entry.endsWith('.yaml') && !entry.startsWith('.'));
  if (strays.length > 0) {
    return refuse(
      strays.map((entry) => ({
        file: path.relative(process.cwd(), path.join(configDir, entry)),
        field: '',
        message: entry.endsWith('.yml')
          ? `is not read: environment files end in .yaml; rename it to ${entry.slice(0, -'.yml'.length)}.yaml`
          : 'is not read: this folder holds only <environment>.yaml files; move it elsewhere',
      })),
    );
  }
  const files = entries.map((file) => path.join(configDir, file)).filter((file) => file.endsWith('.yaml'));
  if (files.length === 0) {
    return refuse([{ file: configDir, field: '', message: 'holds no <environment>.yaml file' }]);
  }
  // Messages name files as the user would type them, relative to where the command ran.
  return validateEnvironments(files.map((file) => ({ file: path.relative(process.cwd(), file), text: fs.readFileSync(file, 'utf8') })));
}

/** Validates already-read config files; `file` names each one in messages and gives the environment name. */
export function validateEnvironments(sources: { file: string; text: string }[]): LoadResult {
  const problems: ConfigProblem[] = [];
  const loaded: { file: string; config: EnvironmentConfig }[] = [];
  for (const source of sources) {
    const name = path.basename(source.file, '.yaml');
    if (!ENVIRONMENT_NAME.test(name)) {
      problems.push({
        file: source.file,
        field: '',
        message: 'the file name is the environment name: 1-16 lowercase letters, digits or "-", starting with a letter',
        received: name,
      });
      continue;
    }
    const document = parseYaml(source.file, source.text, problems);
    if (document === undefined) {
      continue;
    }
    const error = configErrorMap((fieldPath) => sourceText(document, source.text, fieldPath));
    const result = environmentSchema.safeParse(document.toJS(), { reportInput: true, error });
    if (result.success) {
      loaded.push({ file: source.file, config: { name, ...result.data } });
    } else {
      // One problem a field: later checks on a value of the wrong type only repeat the first.
      const fileProblems = result.error.issues.map((issue) => toProblem(source.file, issue));
      problems.push(...fileProblems.filter((problem, index) => fileProblems.findIndex((other) => other.field === problem.field) === index));
    }
  }
  problems.push(...crossEnvironmentProblems(loaded));
  return problems.length > 0
    ? { ok: false, problems, message: formatProblems(problems) }
    : { ok: true, environments: loaded.map((environment) => environment.config) };
}

function parseYaml(file: string, text: string, problems: ConfigProblem[]): Document | undefined {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    problems.push(
      ...document.errors.map((error) => ({ file, field: '', message: `not valid YAML: ${error.message.split('\n')[0]}` })),
    );
    return undefined;
  }
  const value: unknown = document.toJS();
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problems.push({ file, field: '', message: 'must be a YAML mapping of settings', received: value });
    return undefined;
  }
  return document;
}

/** The scalar at a path as written, so messages quote `1.30` rather than the 1.3 YAML read. */
function sourceText(document: Document, text: string, fieldPath: readonly PropertyKey[]): string | undefined {
  const node = document.getIn(fieldPath as unknown[], true);
  return isScalar(node) && node.range ? text.slice(node.range[0], node.range[1]) : undefined;
}

function toProblem(file: string, issue: z.core.$ZodIssue): ConfigProblem {
  // The input of an unknown-field issue is the whole enclosing mapping; the message names the fields.
  const received = issue.code === 'unrecognized_keys' ? undefined : issue.input;
  return { file, field: formatPath(issue.path), message: issue.message, received };
}

/** `teams[0].models[1].name` from zod's path segments. */
function formatPath(segments: PropertyKey[]): string {
  return segments.map((segment) => (typeof segment === 'number' ? `[${segment}]` : `.${String(segment)}`)).join('').replace(/^\./, '');
}

function crossEnvironmentProblems(loaded: { file: string; config: EnvironmentConfig }[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  loaded.forEach(({ file, config }, index) => {
    for (const { config: other } of loaded.slice(0, index)) {
      if (ipv4CidrsOverlap(config.network.vpcCidr, other.network.vpcCidr)) {
        problems.push({
          file,
          field: 'network.vpcCidr',
          message: `overlaps the VPC of environment "${other.name}" (${other.network.vpcCidr}); environments need distinct ranges so they can be peered or joined to a transit gateway`,
          received: config.network.vpcCidr,
        });
      }
      const sameAccount = config.account === other.account && config.ci && other.ci;
      if (sameAccount && config.ci?.createOidcProvider !== other.ci?.createOidcProvider) {
        problems.push({
          file,
          field: 'ci.createOidcProvider',
          message: `must match environment "${other.name}" in the same account: an account has one GitHub OIDC provider`,
          received: config.ci?.createOidcProvider,
        });
      }
    }
  });
  return problems;
}

/** One problem as one line: `file: field: message (received: value)`. */
export function formatProblem(problem: ConfigProblem): string {
  const received = problem.received === undefined ? '' : ` (received: ${display(problem.received)})`;
  const field = problem.field === '' ? '' : `${problem.field}: `;
  return `${problem.file}: ${field}${problem.message}${received}`;
}

/** A heading, then one indented line a problem. */
export function formatProblems(problems: ConfigProblem[]): string {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return [`Invalid configuration, nothing was synthesized (${count}):`, ...problems.map((problem) => `  ${formatProblem(problem)}`)].join('\n');
}
