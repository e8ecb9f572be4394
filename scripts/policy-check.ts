// Runs the pinned policy tools over a synthesized cloud assembly: cfn-lint over every stack
// template of every environment (stage assemblies included), checkov over the same templates and
// over every Kubernetes object those templates apply. A finding fails the run unless an entry of
// scripts/policy/cfn-lint.yaml or scripts/policy/checkov.yaml acknowledges it with a reason; an
// entry that matches no finding fails it too, so no acknowledgment outlives its finding.
// Both tools run offline from the virtual environment scripts/setup-runtime.sh builds.
// Usage: npm run policy -- <cdk.out folder>, or npm run policy -- --synth to synthesize every
// environment into a temporary folder first (what the test command does).
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { z } from 'zod';
import { appliedManifests, DEPLOY_TIME_VALUE } from '../test/helpers/applied-manifests';

const REPO_ROOT = path.join(__dirname, '..');
const POLICY_DIR = path.join(__dirname, 'policy');
export const VENV_DIR = path.join(REPO_ROOT, '.runtime', 'policy');
/** The pinned helm that scripts/setup-runtime.sh builds, which renders chart assets for checkov. */
export const HELM = path.join(REPO_ROOT, '.runtime', 'bin', 'helm');
export const CFN_LINT_FILE = path.join(POLICY_DIR, 'cfn-lint.yaml');
export const CHECKOV_FILE = path.join(POLICY_DIR, 'checkov.yaml');
const REQUIREMENTS_IN = path.join(POLICY_DIR, 'requirements.in');

export type Tool = 'cfn-lint' | 'checkov';

/** One stack template of the assembly. */
export interface StackTemplate {
  /** The stack's name in CloudFormation, e.g. `dev-Data`: what acknowledgments name. */
  stackName: string;
  /** Absolute path of its template. */
  templateFile: string;
  /** Region the stack deploys to, if the assembly names one. */
  region?: string;
}

/** One finding of a tool, before acknowledgments are applied. */
export interface Finding {
  tool: Tool;
  /** cfn-lint rule (`W3005`) or checkov check (`CKV_AWS_116`). */
  rule: string;
  stackName: string;
  /** A template resource's logical ID, `Kind/namespace/name` of a Kubernetes object, or a template path. */
  resource: string;
  message: string;
}

const ruleId: Record<Tool, RegExp> = {
  'cfn-lint': /^[EWI]\d{4}$/,
  checkov: /^CKV2?_[A-Z0-9]+_\d+$/,
};

function acknowledgmentSchema(tool: Tool) {
  const globs = z.array(z.string().min(1)).min(1);
  const entry = z.strictObject({
    rule: z.string().regex(ruleId[tool], `is not a ${tool} rule id`),
    stacks: globs.optional(),
    resources: globs.optional(),
    message: z.string().min(1).optional(),
    reason: z
      .string()
      .trim()
      .min(40, 'must say why the finding does not apply or cannot be fixed (at least 40 characters)'),
  });
  return z.strictObject({ acknowledged: z.array(entry) });
}

/** One entry of an acknowledgment file: a finding, or a set of them, accepted with a reason. */
export type Acknowledgment = z.infer<ReturnType<typeof acknowledgmentSchema>>['acknowledged'][number];

/** The entries of an acknowledgment file's text; throws naming the entry and field when one is invalid. */
export function parseAcknowledgments(text: string, tool: Tool, source: string): Acknowledgment[] {
  const parsed = acknowledgmentSchema(tool).safeParse(parse(text) ?? { acknowledged: [] });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`);
    throw new Error(`${source}: ${problems.join('; ')}`);
  }
  return parsed.data.acknowledged;
}

/** `*` matches any run of characters, everything else itself. */
export function globMatches(glob: string, value: string): boolean {
  const pattern = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${pattern.join('[\\s\\S]*')}$`).test(value);
}

/** The `stacks` and `resources` globs of `entry` that match `finding`, or undefined when the entry does not acknowledge it. */
function matchingGlobs(entry: Acknowledgment, finding: Finding): string[] | undefined {
  if (entry.rule !== finding.rule || (entry.message !== undefined && !globMatches(entry.message, finding.message))) {
    return undefined;
  }
  const stacks = (entry.stacks ?? []).filter((glob) => globMatches(glob, finding.stackName));
  const resources = (entry.resources ?? []).filter((glob) => globMatches(glob, finding.resource));
  if ((entry.stacks && stacks.length === 0) || (entry.resources && resources.length === 0)) {
    return undefined;
  }
  return [...stacks.map((glob) => `stacks ${glob}`), ...resources.map((glob) => `resources ${glob}`)];
}

export interface Verdict {
  /** Findings no entry acknowledges. */
  unacknowledged: Finding[];
  acknowledgedCount: number;
  /**
   * What acknowledges nothing: an entry that matches no finding, or one of its `stacks` or
   * `resources` globs that no acknowledged finding matches, by the entry's index in its file.
   */
  stale: { index: number; entry: Acknowledgment; unused?: string }[];
}

/** Applies one tool's acknowledgments to that tool's findings. */
export function judge(findings: Finding[], entries: Acknowledgment[]): Verdict {
  const used = entries.map(() => new Set<string>());
  const matched = entries.map(() => false);
  const unacknowledged: Finding[] = [];
  for (const finding of findings) {
    let acknowledged = false;
    entries.forEach((entry, index) => {
      const globs = matchingGlobs(entry, finding);
      if (globs) {
        acknowledged = true;
        matched[index] = true;
        globs.forEach((glob) => used[index].add(glob));
      }
    });
    if (!acknowledged) {
      unacknowledged.push(finding);
    }
  }
  const stale = entries.flatMap((entry, index) => {
    if (!matched[index]) {
      return [{ index, entry }];
    }
    const globs = [...(entry.stacks ?? []).map((glob) => `stacks ${glob}`), ...(entry.resources ?? []).map((glob) => `resources ${glob}`)];
    return globs.filter((glob) => !used[index].has(glob)).map((unused) => ({ index, entry, unused }));
  });
  return { unacknowledged, acknowledgedCount: findings.length - unacknowledged.length, stale };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Every stack template of a cloud assembly, following its manifest into nested assemblies (one
 * per stage: `assembly-dev/` …), in manifest order.
 */
export function findStacks(assemblyDir: string): StackTemplate[] {
  const manifestFile = path.join(assemblyDir, 'manifest.json');
  if (!fs.existsSync(manifestFile)) {
    throw new Error(`${assemblyDir} is not a cloud assembly: it has no manifest.json`);
  }
  const manifest: unknown = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  const artifacts = isRecord(manifest) && isRecord(manifest.artifacts) ? manifest.artifacts : {};
  return Object.entries(artifacts).flatMap(([id, artifact]): StackTemplate[] => {
    if (!isRecord(artifact) || !isRecord(artifact.properties)) {
      return [];
    }
    const properties = artifact.properties;
    if (artifact.type === 'cdk:cloud-assembly' && typeof properties.directoryName === 'string') {
      return findStacks(path.join(assemblyDir, properties.directoryName));
    }
    if (artifact.type === 'aws:cloudformation:stack' && typeof properties.templateFile === 'string') {
      const region = typeof artifact.environment === 'string' ? artifact.environment.split('/')[3] : undefined;
      return [
        {
          stackName: typeof properties.stackName === 'string' ? properties.stackName : id,
          templateFile: path.join(assemblyDir, properties.templateFile),
          region: region && region !== 'unknown-region' ? region : undefined,
        },
      ];
    }
    return [];
  });
}

/**
 * Places in a template where a tool would read a suppression of its own (cfn-lint's
 * `Metadata.cfn-lint`, checkov's `Metadata.checkov`): acknowledgments belong in the one file per tool.
 */
export function inlineSuppressions(template: Record<string, unknown>): string[] {
  const found: string[] = [];
  const check = (where: string, metadata: unknown) => {
    for (const key of ['cfn-lint', 'checkov']) {
      if (isRecord(metadata) && key in metadata) {
        found.push(`${where}: Metadata.${key}`);
      }
    }
  };
  check('template', template.Metadata);
  const resources = isRecord(template.Resources) ? template.Resources : {};
  for (const [logicalId, resource] of Object.entries(resources)) {
    check(logicalId, isRecord(resource) ? resource.Metadata : undefined);
  }
  return found;
}

const HELM_CHART_TYPE = 'Custom::AWSCDK-EKS-HelmChart';

/** Whether the template installs a chart asset, which needs helm to be checked. */
function helmChartFilesNeeded(template: Record<string, unknown>, assemblyRoot: string): boolean {
  const resources = isRecord(template.Resources) ? template.Resources : {};
  return Object.values(resources).some((resource) => isRecord(resource) && resource.Type === HELM_CHART_TYPE && helmChartAsset(resource, assemblyRoot) !== undefined);
}

/** The asset folder a Helm chart resource installs from, when it installs a chart asset of this assembly. */
export function helmChartAsset(resource: unknown, assemblyRoot: string): string | undefined {
  const properties = isRecord(resource) && isRecord(resource.Properties) ? resource.Properties : {};
  const url = properties.ChartAssetURL;
  // `s3://<bootstrap bucket>/<asset hash>.zip`: the CDK stages that asset as `asset.<hash>` in the assembly.
  const hash = typeof url === 'string' ? /\/([0-9a-f]{64})\.zip$/.exec(url)?.[1] : undefined;
  const folder = hash && path.join(assemblyRoot, `asset.${hash}`);
  return folder && fs.existsSync(path.join(folder, 'Chart.yaml')) ? folder : undefined;
}

/**
 * Resources through which a template applies Kubernetes objects that {@link kubernetesFiles} and
 * {@link helmChartFiles} do not read (Helm charts from a repository, patches): checkov would not see
 * those objects, so the run fails instead.
 */
export function unreadKubernetesResources(template: Record<string, unknown>, assemblyRoot: string): string[] {
  const resources = isRecord(template.Resources) ? template.Resources : {};
  return Object.entries(resources)
    .filter(([, resource]) => isRecord(resource) && typeof resource.Type === 'string')
    .filter(([, resource]) => {
      const type = (resource as { Type: string }).Type;
      const readable = type === 'Custom::AWSCDK-EKS-KubernetesResource' || (type === HELM_CHART_TYPE && helmChartAsset(resource, assemblyRoot) !== undefined);
      return type.startsWith('Custom::AWSCDK-EKS-') && !readable;
    })
    .map(([logicalId, resource]) => `${logicalId} (${(resource as { Type: string }).Type})`);
}

/** The Kubernetes version of the EKS cluster the template creates, if it creates one. */
function clusterVersion(template: Record<string, unknown>): string | undefined {
  const resources = isRecord(template.Resources) ? template.Resources : {};
  const cluster = Object.values(resources).find((resource) => isRecord(resource) && resource.Type === 'AWS::EKS::Cluster');
  const version = isRecord(cluster) && isRecord(cluster.Properties) ? cluster.Properties.Version : undefined;
  return typeof version === 'string' ? version : undefined;
}

/**
 * One YAML file per Kubernetes object each chart asset of the template installs, rendered by the pinned helm as
 * the kubectl provider installs it: the resource's release, namespace and values, CRDs included. Values that are
 * not known before deploy cannot be rendered, so such a chart fails the run.
 */
export function helmChartFiles(stack: StackTemplate, template: Record<string, unknown>, assemblyRoot: string, helm = HELM): KubernetesFile[] {
  const resources = isRecord(template.Resources) ? template.Resources : {};
  return Object.entries(resources).flatMap(([logicalId, resource]) => {
    const chart = isRecord(resource) && resource.Type === HELM_CHART_TYPE ? helmChartAsset(resource, assemblyRoot) : undefined;
    if (!chart) {
      return [];
    }
    const properties = (resource as { Properties: Record<string, unknown> }).Properties;
    if (properties.Values !== undefined && typeof properties.Values !== 'string') {
      throw new Error(`${stack.stackName} ${logicalId}: its Helm values are only known at deploy time, so its objects cannot be checked`);
    }
    const valuesFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'helm-values-')), 'values.json');
    fs.writeFileSync(valuesFile, typeof properties.Values === 'string' ? properties.Values : '{}');
    const scratch = path.dirname(valuesFile);
    try {
      const args = ['template', String(properties.Release), chart, '--namespace', String(properties.Namespace ?? 'default'), '--include-crds', '--values', valuesFile];
      // A chart may render differently per Kubernetes version; helm built from source assumes an old one.
      const kubernetesVersion = clusterVersion(template);
      if (kubernetesVersion) {
        args.push('--kube-version', kubernetesVersion);
      }
      // helm keeps its caches and settings under the scratch folder: nothing is read from or written to the user's.
      const env = { ...process.env, HELM_CACHE_HOME: scratch, HELM_CONFIG_HOME: scratch, HELM_DATA_HOME: scratch };
      const rendered = spawnSync(helm, args, { encoding: 'utf8', env });
      if (rendered.status !== 0) {
        throw new Error(`${stack.stackName} ${logicalId}: helm template failed: ${(rendered.stderr || String(rendered.error)).trim()}`);
      }
      return parseAllDocuments(rendered.stdout)
        .map((document) => document.toJS() as unknown)
        .filter(isRecord)
        .map((object, index) => ({
          relativePath: path.join(stack.stackName, `${logicalId}-${index + 1}.yaml`),
          content: stringify(object),
          stackName: stack.stackName,
          resource: kubernetesResourceName(object),
        }));
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });
}

/** A Kubernetes object written for checkov, with where it came from. */
export interface KubernetesFile {
  /** Path under the folder checkov scans: `<stack>/<logical ID>-<n>.yaml`. */
  relativePath: string;
  content: string;
  stackName: string;
  /** `Kind/namespace/name`, or `Kind/name` for cluster-scoped objects. */
  resource: string;
}

/** `Kind/namespace/name` of a Kubernetes object (`Kind/name` without a namespace). */
export function kubernetesResourceName(object: unknown): string {
  const record = isRecord(object) ? object : {};
  const metadata = isRecord(record.metadata) ? record.metadata : {};
  return [record.kind, metadata.namespace, metadata.name].filter((part) => typeof part === 'string').join('/');
}

/**
 * The template with each `Fn::Sub` string inside a Manifest's Fn::Join written out, its `${…}`
 * references replaced by DEPLOY_TIME_VALUE. An image URI from a CDK asset is such an Fn::Sub (
 * `<account>.dkr.ecr.<region>.${AWS::URLSuffix}/<repository>:<hash>`): kept whole as one
 * placeholder, it would lose its tag, and checkov would judge an image that is not the one deployed.
 */
export function withSubstitutionsWrittenOut(template: Record<string, unknown>): Record<string, unknown> {
  const resources = isRecord(template.Resources) ? template.Resources : {};
  const writeOut = (part: unknown): unknown => {
    const sub = isRecord(part) ? part['Fn::Sub'] : undefined;
    // `${!Name}` is Fn::Sub's escape for a literal `${Name}`.
    if (typeof sub !== 'string' || Object.keys(part as object).length !== 1) {
      return part;
    }
    const text = sub.replace(/\$\{(!?)([^}]*)\}/g, (_, bang: string, name: string) => (bang ? `\${${name}}` : DEPLOY_TIME_VALUE));
    // The part sits inside a JSON string of the manifest.
    return JSON.stringify(text).slice(1, -1);
  };
  const rewritten = Object.fromEntries(
    Object.entries(resources).map(([logicalId, resource]) => {
      const properties = isRecord(resource) && isRecord(resource.Properties) ? resource.Properties : undefined;
      const join = properties && isRecord(properties.Manifest) ? properties.Manifest['Fn::Join'] : undefined;
      if (!Array.isArray(join) || !Array.isArray(join[1])) {
        return [logicalId, resource];
      }
      const manifest = { 'Fn::Join': [join[0], join[1].map(writeOut)] };
      return [logicalId, { ...(resource as object), Properties: { ...properties, Manifest: manifest } }];
    }),
  );
  return { ...template, Resources: rewritten };
}

/** One YAML file per Kubernetes object a template applies, each object alone in its file. */
export function kubernetesFiles(stack: StackTemplate, template: Record<string, unknown>): KubernetesFile[] {
  const counts = new Map<string, number>();
  return appliedManifests(withSubstitutionsWrittenOut(template)).map(({ logicalId, object }) => {
    const n = (counts.get(logicalId) ?? 0) + 1;
    counts.set(logicalId, n);
    // Stack names are [A-Za-z0-9-] and logical IDs alphanumeric: both safe as path parts.
    return {
      relativePath: path.join(stack.stackName, `${logicalId}-${n}.yaml`),
      content: stringify(object),
      stackName: stack.stackName,
      resource: kubernetesResourceName(object),
    };
  });
}

/** Findings in cfn-lint's `--format json` output; `stackOf` names the stack of a template file. */
export function cfnLintFindings(output: unknown, stackOf: (file: string) => string): Finding[] {
  if (!Array.isArray(output)) {
    throw new Error(`cfn-lint printed something other than a list of findings: ${JSON.stringify(output).slice(0, 200)}`);
  }
  return output.map((match: any): Finding => {
    const location: unknown[] = Array.isArray(match?.Location?.Path) ? match.Location.Path : [];
    const resource = location[0] === 'Resources' && typeof location[1] === 'string' ? location[1] : location.join('/');
    return {
      tool: 'cfn-lint',
      rule: String(match?.Rule?.Id),
      stackName: stackOf(String(match?.Filename)),
      resource,
      message: String(match?.Message),
    };
  });
}

/** What checkov reports for one framework in `-o json` output. */
interface CheckovReport {
  check_type: string;
  /** With --quiet, lists that would be empty are left out. */
  results: { failed_checks?: any[]; skipped_checks?: any[] };
  summary: { parsing_errors: number; resource_count: number };
}

/** checkov prints one report per framework, and a bare summary when a framework found no files. */
function checkovReports(output: unknown): CheckovReport[] {
  const reports = Array.isArray(output) ? output : [output];
  return reports.filter((report): report is CheckovReport => isRecord(report) && isRecord(report.results));
}

/**
 * Failed checks in checkov's `-o json` output. `sourceOf` maps a scanned file to its stack and,
 * for Kubernetes files, to the object in it. A check skipped inside a scanned file is reported as
 * a finding too: checkov runs with no skips of its own, so any skip came from an inline annotation.
 */
export function checkovFindings(
  output: unknown,
  sourceOf: (file: string) => { stackName: string; resource?: string },
): Finding[] {
  return checkovReports(output).flatMap((report) => {
    const finding = (check: any, message: string): Finding => {
      const source = sourceOf(String(check.file_abs_path ?? check.file_path));
      // CloudFormation resources are `AWS::Type::Name.LogicalId`; logical IDs hold no dots.
      const resource = source.resource ?? String(check.resource).split('.').pop()!;
      return { tool: 'checkov', rule: String(check.check_id), stackName: source.stackName, resource, message };
    };
    return [
      ...(report.results.failed_checks ?? []).map((check) => finding(check, String(check.check_name))),
      ...(report.results.skipped_checks ?? []).map((check) =>
        finding(check, `skipped inside the template or object (${String(check.check_name)}); acknowledge it in ${path.relative(REPO_ROOT, CHECKOV_FILE)} instead`),
      ),
    ];
  });
}

/** Files checkov could not parse: their checks never ran. */
export function checkovParsingErrors(output: unknown): number {
  return checkovReports(output).reduce((sum, report) => sum + (report.summary?.parsing_errors ?? 0), 0);
}

/** The exact `name==version` pins of requirements.in. */
export function pinnedTools(requirementsIn: string): { name: string; version: string }[] {
  return requirementsIn
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      const match = /^([A-Za-z0-9._-]+)==([A-Za-z0-9.+!-]+)$/.exec(line);
      if (!match) {
        throw new Error(`requirements.in: "${line}" is not an exact name==version pin`);
      }
      return { name: match[1], version: match[2] };
    });
}

const SETUP_HINT = 'run scripts/setup-runtime.sh';

/** Why the virtual environment cannot run the pinned tools, or undefined when it can. */
export function venvProblem(venvDir: string, pins: { name: string; version: string }[]): string | undefined {
  const relative = path.relative(REPO_ROOT, venvDir);
  const missing = ['cfn-lint', 'checkov'].filter((tool) => !fs.existsSync(path.join(venvDir, 'bin', tool)));
  if (missing.length > 0) {
    return `policy tools missing (${missing.join(', ')} not in ${relative}): ${SETUP_HINT}`;
  }
  const libDir = path.join(venvDir, 'lib');
  const sitePackages = fs.existsSync(libDir)
    ? fs.readdirSync(libDir).map((python) => path.join(libDir, python, 'site-packages')).filter((dir) => fs.existsSync(dir))
    : [];
  const installed = sitePackages.flatMap((dir) => fs.readdirSync(dir)).map((entry) => entry.toLowerCase());
  const wrong = pins.filter(
    ({ name, version }) => !installed.includes(`${name.replace(/[-.]/g, '_').toLowerCase()}-${version.toLowerCase()}.dist-info`),
  );
  if (wrong.length > 0) {
    return `${relative} does not hold the pinned ${wrong.map(({ name, version }) => `${name} ${version}`).join(', ')}: ${SETUP_HINT}`;
  }
  return undefined;
}

/** How one finding is printed: one line. */
export function findingLine(finding: Finding): string {
  const message = finding.message.replace(/\s+/g, ' ').trim();
  return `${finding.tool} ${finding.rule} ${finding.stackName} ${finding.resource || '(template)'}: ${message}`;
}

/**
 * The environment the tools run in: no user or project config files (HOME and the working folder
 * are the temp folder), no update check, no download of policies or check metadata, no telemetry.
 */
function toolEnvironment(tempDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    // An API key would make checkov talk to the Prisma Cloud platform.
    if (/^(BC_|CKV_|CHECKOV_|PRISMA_)/.test(name)) {
      delete env[name];
    }
  }
  return {
    ...env,
    HOME: tempDir,
    XDG_CONFIG_HOME: tempDir,
    XDG_CACHE_HOME: tempDir,
    CKV_CACHE_DIR: path.join(tempDir, 'checkov-cache'),
    CKV_SKIP_PACKAGE_UPDATE_CHECK: 'true',
    BC_SKIP_MAPPING: 'TRUE',
    CHECKOV_CREATE_SCA_IMAGE_REPORTS_FOR_IR: 'false',
    LOG_LEVEL: 'WARNING',
    PYTHONWARNINGS: 'ignore',
    DO_NOT_TRACK: '1',
  };
}

const children = new Set<ChildProcess>();

/** Runs a tool to completion, its stdout collected; exit codes are the caller's to read. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => {
      children.delete(child);
      reject(error);
    });
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}

function parseJsonOutput(tool: string, result: { code: number; stdout: string; stderr: string }): unknown {
  try {
    return JSON.parse(result.stdout);
  } catch {
    const detail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-5).join(' | ');
    throw new Error(`${tool} failed (exit ${result.code}) without a JSON report: ${detail}`);
  }
}

async function runCfnLint(stacks: StackTemplate[], tempDir: string, env: NodeJS.ProcessEnv): Promise<Finding[]> {
  const stackByFile = new Map(stacks.map((stack) => [path.resolve(stack.templateFile), stack.stackName]));
  const stackOf = (file: string) => stackByFile.get(path.resolve(tempDir, file)) ?? file;
  // Each template is checked against the region it deploys to (resource types and values differ by region).
  const byRegion = new Map<string, StackTemplate[]>();
  for (const stack of stacks) {
    const region = stack.region ?? 'us-east-1';
    byRegion.set(region, [...(byRegion.get(region) ?? []), stack]);
  }
  const results = await Promise.all(
    [...byRegion].map(async ([region, regionStacks]) => {
      const args = ['--format', 'json', '--regions', region, '--', ...regionStacks.map((stack) => path.resolve(stack.templateFile))];
      const result = await run(path.join(VENV_DIR, 'bin', 'cfn-lint'), args, tempDir, env);
      // Exit codes 2, 4 and 8 (and their sums) flag errors, warnings and notes; anything else is a crash.
      if (result.code !== 0 && (result.code & ~14) !== 0) {
        throw new Error(`cfn-lint failed (exit ${result.code}): ${result.stderr.trim().split('\n').slice(-5).join(' | ')}`);
      }
      return cfnLintFindings(parseJsonOutput('cfn-lint', result), stackOf);
    }),
  );
  return results.flat();
}

async function runCheckov(
  stacks: StackTemplate[],
  kubernetes: KubernetesFile[],
  tempDir: string,
  env: NodeJS.ProcessEnv,
): Promise<{ findings: Finding[]; objects: number }> {
  const kubernetesDir = path.join(tempDir, 'kubernetes');
  const sources = new Map<string, { stackName: string; resource?: string }>();
  for (const file of kubernetes) {
    const target = path.join(kubernetesDir, file.relativePath);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, file.content);
    sources.set(target, { stackName: file.stackName, resource: file.resource });
  }
  for (const stack of stacks) {
    sources.set(path.resolve(stack.templateFile), { stackName: stack.stackName });
  }
  const sourceOf = (file: string) => {
    const source = sources.get(path.resolve(tempDir, file));
    if (!source) {
      throw new Error(`checkov reported a file it was not given: ${file}`);
    }
    return source;
  };
  const common = ['--skip-download', '--compact', '--quiet', '--output', 'json', '--download-external-modules', 'false'];
  const runs: Promise<Finding[]>[] = [
    (async () => {
      const args = ['--framework', 'cloudformation', ...common, '--file', ...stacks.map((stack) => path.resolve(stack.templateFile))];
      const output = parseJsonOutput('checkov', await run(path.join(VENV_DIR, 'bin', 'checkov'), args, tempDir, env));
      if (checkovParsingErrors(output) > 0) {
        throw new Error('checkov could not parse some templates, so their checks did not run');
      }
      return checkovFindings(output, sourceOf);
    })(),
  ];
  if (kubernetes.length > 0) {
    runs.push(
      (async () => {
        const args = ['--framework', 'kubernetes', ...common, '--directory', kubernetesDir];
        const output = parseJsonOutput('checkov', await run(path.join(VENV_DIR, 'bin', 'checkov'), args, tempDir, env));
        if (checkovParsingErrors(output) > 0) {
          throw new Error('checkov could not parse some Kubernetes objects, so their checks did not run');
        }
        return checkovFindings(output, sourceOf);
      })(),
    );
  }
  return { findings: (await Promise.all(runs)).flat(), objects: kubernetes.length };
}

/**
 * Synthesizes every environment as `npm run synth` does into a temporary folder, checks it and
 * removes it, so the test command can run the tools without touching cdk.out.
 */
async function synthAndCheck(): Promise<number> {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-synth-'));
  try {
    const synth = spawnSync('npx', ['--no-install', 'cdk', 'synth', '--strict', '--quiet', '--output', folder], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    });
    if (synth.status !== 0) {
      console.error('policy: cdk synth failed, nothing was checked');
      return 1;
    }
    return await main([folder]);
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<number> {
  const [assemblyArg] = argv;
  if (!assemblyArg) {
    console.error('usage: npm run policy -- <cdk.out folder> | --synth');
    return 2;
  }
  if (assemblyArg === '--synth') {
    return synthAndCheck();
  }
  const problem = venvProblem(VENV_DIR, pinnedTools(fs.readFileSync(REQUIREMENTS_IN, 'utf8')));
  if (problem) {
    console.error(problem);
    return 1;
  }
  const acknowledgments: Record<Tool, Acknowledgment[]> = {
    'cfn-lint': parseAcknowledgments(fs.readFileSync(CFN_LINT_FILE, 'utf8'), 'cfn-lint', path.relative(REPO_ROOT, CFN_LINT_FILE)),
    checkov: parseAcknowledgments(fs.readFileSync(CHECKOV_FILE, 'utf8'), 'checkov', path.relative(REPO_ROOT, CHECKOV_FILE)),
  };
  const stacks = findStacks(path.resolve(assemblyArg));
  if (stacks.length === 0) {
    console.error(`${assemblyArg}: the assembly has no stacks`);
    return 1;
  }
  const templates = stacks.map((stack) => JSON.parse(fs.readFileSync(stack.templateFile, 'utf8')) as Record<string, unknown>);
  const suppressions = stacks.flatMap((stack, i) => inlineSuppressions(templates[i]).map((where) => `${stack.stackName} ${where}`));
  const assemblyRoot = path.resolve(assemblyArg);
  const unread = stacks.flatMap((stack, i) => unreadKubernetesResources(templates[i], assemblyRoot).map((where) => `${stack.stackName} ${where}`));
  if (!fs.existsSync(HELM) && stacks.some((stack, i) => helmChartFilesNeeded(templates[i], assemblyRoot))) {
    console.error(`policy: ${path.relative(REPO_ROOT, HELM)} is missing: run scripts/setup-runtime.sh`);
    return 1;
  }
  const kubernetes = stacks.flatMap((stack, i) => [...kubernetesFiles(stack, templates[i]), ...helmChartFiles(stack, templates[i], assemblyRoot)]);

  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-check-'));
  const cleanUp = () => fs.rmSync(tempDir, { recursive: true, force: true });
  const onSignal = (signal: NodeJS.Signals) => {
    children.forEach((child) => child.kill(signal));
    cleanUp();
    process.exit(128 + (os.constants.signals[signal] ?? 0));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', cleanUp);
  let findings: Record<Tool, Finding[]>;
  let objects: number;
  try {
    const env = toolEnvironment(tempDir);
    const [cfnLint, checkov] = await Promise.all([runCfnLint(stacks, tempDir, env), runCheckov(stacks, kubernetes, tempDir, env)]);
    findings = { 'cfn-lint': cfnLint, checkov: checkov.findings };
    objects = checkov.objects;
  } finally {
    cleanUp();
  }

  const lines: string[] = [
    ...suppressions.map((where) => `inline suppression ${where}: acknowledge findings in scripts/policy/ instead`),
    ...unread.map((where) => `unchecked Kubernetes objects ${where}: scripts/policy-check.ts does not read this resource type yet`),
  ];
  let acknowledged = 0;
  for (const tool of ['cfn-lint', 'checkov'] as const) {
    const file = path.relative(REPO_ROOT, tool === 'cfn-lint' ? CFN_LINT_FILE : CHECKOV_FILE);
    const verdict = judge(findings[tool], acknowledgments[tool]);
    acknowledged += verdict.acknowledgedCount;
    lines.push(...verdict.unacknowledged.map(findingLine));
    lines.push(
      ...verdict.stale.map(({ index, entry, unused }) =>
        unused
          ? `stale acknowledgment ${file} entry ${index + 1} (${entry.rule}): ${unused} matches no finding, remove it`
          : `stale acknowledgment ${file} entry ${index + 1} (${entry.rule}): it matches no finding, remove it`,
      ),
    );
  }
  const scope = `${stacks.length} templates and ${objects} Kubernetes objects`;
  if (lines.length > 0) {
    lines.forEach((line) => console.error(line));
    console.error(
      `policy: ${lines.length} problem(s) over ${scope}: fix each, or acknowledge it with its reason in scripts/policy/cfn-lint.yaml or scripts/policy/checkov.yaml`,
    );
    return 1;
  }
  console.log(`policy: cfn-lint and checkov pass over ${scope} (${acknowledged} findings acknowledged with reasons)`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`policy: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
