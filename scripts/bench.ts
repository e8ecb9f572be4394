// Median wall times of synth (per environment and whole app), of the test suite and of the unit tier.
// Usage: npm run bench [-- --runs N]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');
const runsFlag = process.argv.indexOf('--runs');
const RUNS = runsFlag >= 0 ? Number(process.argv[runsFlag + 1]) : 3;

function timeCommand(command: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'pipe', encoding: 'utf8', env: { ...process.env, ...env } });
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

function measure(
  label: string,
  command: string,
  args: string[],
  env: () => NodeJS.ProcessEnv = () => ({}),
): { label: string; median: number; runs: number[] } {
  const runs = Array.from({ length: RUNS }, () => timeCommand(command, args, env()));
  console.log(`${label.padEnd(40)} median ${median(runs).toFixed(1)} s   runs ${runs.map((run) => run.toFixed(1)).join(', ')}`);
  return { label, median: median(runs), runs };
}

const environments = fs
  .readdirSync(path.join(ROOT, 'config'))
  .filter((file) => file.endsWith('.yaml'))
  .map((file) => path.basename(file, '.yaml'));
const cdkJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8'));

/** Folders the runs wrote, removed at the end: each cloud assembly holds tens of MB of assets. */
const scratch: string[] = [];
const scratchFolder = (prefix: string) => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  scratch.push(folder);
  return folder;
};

/** Runs the app as the CLI does, on a folder holding only this environment's file, into a fresh folder. */
function oneEnvironment(name: string): NodeJS.ProcessEnv {
  const configDir = scratchFolder('bench-config-');
  fs.copyFileSync(path.join(ROOT, 'config', `${name}.yaml`), path.join(configDir, `${name}.yaml`));
  return {
    CDK_OUTDIR: scratchFolder('bench-cdk-out-'),
    CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJson.context, 'aws:cdk:version-reporting': false, configDir }),
  };
}

console.log(`${RUNS} runs each, ${os.cpus().length} cores, node ${process.version}`);
const results = [
  ...environments.map((name) =>
    measure(`synth ${name} (validation + policy packs)`, 'npx', ['tsx', 'bin/mlops-platform.ts'], () => oneEnvironment(name)),
  ),
  measure('npm run synth (every environment, CLI)', 'npm', ['run', 'synth']),
  measure('jest (whole suite)', 'npx', ['jest', '--silent']),
  // The unit tier as a developer runs it: type check, then every Jest file (budget: 15 s on 2 cores).
  measure('unit tier (npm run test:unit)', 'npm', ['run', 'test:unit']),
];
for (const folder of scratch) {
  fs.rmSync(folder, { recursive: true, force: true });
}
fs.mkdirSync(path.join(ROOT, 'bench-results'), { recursive: true });
fs.writeFileSync(
  path.join(ROOT, 'bench-results', 'latest.json'),
  JSON.stringify({ date: new Date().toISOString(), runs: RUNS, results }, null, 2),
);
