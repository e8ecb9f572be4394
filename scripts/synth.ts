// Synthesizes every environment, or the ones named, into cdk.out with every checker on, and ends with a summary:
// environments and stacks synthesized, and each checker's result.
// Usage: npm run synth [-- <environment> ...] [--no-cache] [--config <folder>]
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CHECKERS } from '../lib/validation/checkers';

const ROOT = path.join(__dirname, '..');
const OUTDIR = 'cdk.out';

/** What the command line asks for. */
export interface SynthRequest {
  /** Environments to synthesize; empty for all. */
  readonly environments: string[];
  /** Whether checkers may reuse findings of templates they validated before. */
  readonly cache: boolean;
  /** Another folder of environment files than config/, e.g. a copy holding a change to try. */
  readonly configDir?: string;
}

const USAGE = 'usage: npm run synth [-- <environment> ...] [--no-cache] [--config <folder>]';

/** The environments a config folder holds, by file name; none when it does not exist (the app then says why). */
export function configuredEnvironments(configDir: string): string[] {
  return fs.existsSync(configDir)
    ? fs
        .readdirSync(configDir)
        .filter((file) => file.endsWith('.yaml'))
        .map((file) => path.basename(file, '.yaml'))
    : [];
}

/** Reads the arguments, or returns the one-line reason they cannot be used. */
export function parseSynthArguments(args: string[], defaultConfigDir: string): SynthRequest | string {
  const names: string[] = [];
  let cache = true;
  let configDir: string | undefined;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    if (arg === '--no-cache') {
      cache = false;
    } else if (arg === '--config') {
      configDir = args[++index];
      if (!configDir) {
        return `npm run synth: --config needs a folder; ${USAGE}`;
      }
      configDir = path.resolve(configDir);
    } else if (arg.startsWith('-')) {
      return `npm run synth: unknown option ${arg}; ${USAGE}`;
    } else {
      names.push(arg);
    }
  }
  const folder = configDir ?? defaultConfigDir;
  // Names are checked here so a typo fails in one line; the app checks the files themselves.
  const configured = configuredEnvironments(folder);
  const unknown = names.find((name) => !configured.includes(name));
  if (unknown !== undefined && configured.length > 0) {
    return `npm run synth: no environment named "${unknown}"; ${path.relative(process.cwd(), folder) || '.'}/ has ${configured.join(', ')}`;
  }
  return { environments: names, cache, ...(configDir ? { configDir } : {}) };
}

interface PluginReport {
  readonly pluginName: string;
  readonly conclusion: 'success' | 'failure';
  readonly metadata?: Record<string, string>;
  readonly violations: unknown[];
  readonly suppressedViolations?: unknown[];
}

interface Manifest {
  readonly artifacts?: Record<string, { type: string; properties?: { directoryName?: string } }>;
}

/** Environments (nested assemblies) and stacks of the cloud assembly in `outdir`. */
function assemblyContents(outdir: string): { environments: string[]; stacks: number } {
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8')) as Manifest;
  const environments: string[] = [];
  let stacks = 0;
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type === 'aws:cloudformation:stack') {
      stacks += 1;
    } else if (artifact.type === 'cdk:cloud-assembly' && artifact.properties?.directoryName) {
      environments.push(id.replace(/^assembly-/, ''));
      stacks += assemblyContents(path.join(outdir, artifact.properties.directoryName)).stacks;
    }
  }
  return { environments: environments.sort(), stacks };
}

/** The closing summary of a synth into `outdir`: what was built, and each checker's result. */
export function synthSummary(outdir: string, seconds: number): string {
  if (!fs.existsSync(path.join(outdir, 'manifest.json'))) {
    return 'Synth failed before any template was written; see the error above.';
  }
  const { environments, stacks } = assemblyContents(outdir);
  const reportFile = path.join(outdir, 'validation-report.json');
  // aws-cdk-lib leaves out of the report a checker with nothing to say: it ran and found nothing.
  const reports: PluginReport[] = fs.existsSync(reportFile) ? JSON.parse(fs.readFileSync(reportFile, 'utf8')).pluginReports : [];
  const lines = [
    `Synthesized ${environments.length} environment${environments.length === 1 ? '' : 's'} (${environments.join(', ')}): ${stacks} stacks into ${path.basename(outdir)} in ${seconds.toFixed(1)} s.`,
  ];
  for (const checker of CHECKERS) {
    const report = reports.find((candidate) => candidate.pluginName === checker.name);
    const result = report?.conclusion === 'failure' ? `FAILED, ${report.violations.length} finding(s) above` : 'passed';
    const details = [
      report?.metadata?.templates && `${report.metadata.templates} templates, ${report.metadata.reusedFromCache} reused from the validation cache`,
      `${report?.suppressedViolations?.length ?? 0} findings acknowledged`,
    ].filter(Boolean);
    lines.push(`  ${checker.label.padEnd(38)} ${result}: ${details.join('; ')}`);
  }
  return lines.join('\n');
}

/** Runs the CDK CLI's synth and forwards its output, without its hint to name a stack, which the summary replaces. */
function runCdkSynth(request: SynthRequest): Promise<number> {
  const args = ['synth', '--strict', '--quiet', '--output', OUTDIR];
  if (request.environments.length > 0) {
    args.push('--context', `environments=${request.environments.join(',')}`);
  }
  if (!request.cache) {
    args.push('--context', 'validationCache=false');
  }
  if (request.configDir) {
    args.push('--context', `configDir=${request.configDir}`);
  }
  // The pinned CLI itself rather than through npx, which costs a third of a second to find it.
  const child = spawn(path.join(ROOT, 'node_modules', '.bin', 'cdk'), args, { cwd: ROOT, stdio: ['inherit', 'pipe', 'pipe'] });
  const forward = (from: NodeJS.ReadableStream, to: NodeJS.WriteStream) => {
    let pending = '';
    from.setEncoding('utf8');
    from.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines.filter((candidate) => !candidate.startsWith('Supply a stack id'))) {
        to.write(`${line}\n`);
      }
    });
    from.on('end', () => pending && !pending.startsWith('Supply a stack id') && to.write(pending));
  };
  forward(child.stdout, process.stdout);
  forward(child.stderr, process.stderr);
  return new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
}

async function main(): Promise<void> {
  const request = parseSynthArguments(process.argv.slice(2), path.join(ROOT, 'config'));
  if (typeof request === 'string') {
    console.error(request);
    process.exit(1);
  }
  // A clean folder: aws-cdk-lib would otherwise report a stale validation-report.json again.
  fs.rmSync(path.join(ROOT, OUTDIR), { recursive: true, force: true });
  const started = process.hrtime.bigint();
  const status = await runCdkSynth(request);
  console.error(synthSummary(path.join(ROOT, OUTDIR), Number(process.hrtime.bigint() - started) / 1e9));
  process.exit(status);
}

if (require.main === module) {
  void main();
}
