// Median wall times of synth and of the unit tier, each run several times on a quiet machine:
// - `npm run synth` with the validation cache empty (as on a fresh clone), warm with nothing changed, and warm
//   after one environment's config changed (a tag on every resource of that environment);
// - `npm run synth -- <environment>` for each environment, cold and warm;
// - a paired comparison of the app's own synth with every checker on and with none (cache off), alternating runs;
// - the unit tier, cold and warm.
// It overwrites cdk.out and empties the validation cache, which only costs the next synth its reuse.
// Usage: npm run bench [-- --runs N]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { parse, stringify } from 'yaml';
import { addPolicyPacks } from '../lib/compliance';
import { loadEnvironments } from '../lib/config/load';
import { buildPlatform } from '../lib/platform-app';
import { DEFAULT_VALIDATION_CACHE_DIRECTORY } from '../lib/validation/validation-cache';

const ROOT = path.join(__dirname, '..');

/** Child mode: synthesizes the committed environments in this process, with or without checkers. */
function synthesizeInProcess(checkers: boolean, outdir: string): void {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8'));
  const app = new App({ outdir, context: cdkJson.context, builtinCloudFormationValidation: checkers });
  const loaded = loadEnvironments(path.join(ROOT, 'config'));
  if (!loaded.ok) {
    throw new Error(loaded.message);
  }
  if (checkers) {
    addPolicyPacks(app, { validationCache: false });
  }
  buildPlatform(app, { environments: loaded.environments });
  app.synth();
}

interface Result {
  readonly label: string;
  readonly median: number;
  readonly runs: number[];
}

function timeCommand(command: string, args: string[], before: () => void = () => undefined): number {
  before();
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'pipe', encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  }
  return seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function report(label: string, runs: number[]): Result {
  console.log(`${label.padEnd(58)} median ${median(runs).toFixed(1)} s   runs ${runs.map((run) => run.toFixed(1)).join(', ')}`);
  return { label, median: median(runs), runs };
}

function main(): void {
  const args = process.argv.slice(2);
  const runs = args.length === 0 ? 3 : args[0] === '--runs' && args.length === 2 ? Number(args[1]) : NaN;
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(`bench: unknown arguments ${args.join(' ')}; usage: npm run bench [-- --runs N] (N at least 1)`);
    process.exit(1);
  }
  const repeat = (run: (index: number) => number) => Array.from({ length: runs }, (_, index) => run(index));
  const emptyCache = () => fs.rmSync(DEFAULT_VALIDATION_CACHE_DIRECTORY, { recursive: true, force: true });
  const synth = (...args: string[]) => ['run', 'synth', '--', ...args];
  const environments = fs
    .readdirSync(path.join(ROOT, 'config'))
    .filter((file) => file.endsWith('.yaml'))
    .map((file) => path.basename(file, '.yaml'));

  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  try {
    console.log(`${runs} runs each, ${os.availableParallelism()} CPUs, node ${process.version}`);
    const results: Result[] = [];
    results.push(report('npm run synth, cache empty (fresh clone)', repeat(() => timeCommand('npm', synth(), emptyCache))));
    results.push(report('npm run synth, cache warm, nothing changed', repeat(() => timeCommand('npm', synth()))));

    // A copy of config/ where one environment gets a new tag on every resource before each run.
    const configCopy = path.join(scratch, 'config');
    fs.cpSync(path.join(ROOT, 'config'), configCopy, { recursive: true });
    timeCommand('npm', synth('--config', configCopy));
    const changed = environments.includes('prod') ? 'prod' : environments[0];
    const tagOnce = (index: number) => () => {
      const file = path.join(configCopy, `${changed}.yaml`);
      const config = parse(fs.readFileSync(file, 'utf8'));
      fs.writeFileSync(file, stringify({ ...config, tags: { ...config.tags, benchRun: `run-${index}` } }));
    };
    results.push(
      report(`npm run synth, cache warm, ${changed} config changed`, repeat((index) => timeCommand('npm', synth('--config', configCopy), tagOnce(index)))),
    );

    for (const name of environments) {
      results.push(report(`npm run synth -- ${name}, cache empty`, repeat(() => timeCommand('npm', synth(name), emptyCache))));
      results.push(report(`npm run synth -- ${name}, cache warm`, repeat(() => timeCommand('npm', synth(name)))));
    }

    // Paired: the app alone (no CLI), every environment, with the checkers and without, alternating.
    const child = (checkers: boolean) => () =>
      timeCommand('npx', ['tsx', __filename, '--synth-child', checkers ? 'on' : 'off', fs.mkdtempSync(path.join(scratch, 'out-'))]);
    const paired = Array.from({ length: runs }, () => [child(true)(), child(false)()]);
    results.push(report('app synth, every checker on (no cache)', paired.map(([on]) => on)));
    results.push(report('app synth, no checker', paired.map(([, off]) => off)));
    results.push(report('  difference (checkers), paired', paired.map(([on, off]) => on - off)));

    results.push(report('unit tier (npm run test:unit), cache empty', repeat(() => timeCommand('npm', ['run', 'test:unit'], emptyCache))));
    results.push(report('unit tier (npm run test:unit), cache warm', repeat(() => timeCommand('npm', ['run', 'test:unit']))));

    fs.mkdirSync(path.join(ROOT, 'bench-results'), { recursive: true });
    fs.writeFileSync(
      path.join(ROOT, 'bench-results', 'latest.json'),
      JSON.stringify({ date: new Date().toISOString(), runs, cpus: os.availableParallelism(), results }, null, 2),
    );
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const childFlag = process.argv.indexOf('--synth-child');
  if (childFlag >= 0) {
    synthesizeInProcess(process.argv[childFlag + 1] === 'on', process.argv[childFlag + 2]);
  } else {
    main();
  }
}
