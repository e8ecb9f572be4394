import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from './app';

/** What a script printed and how it exited, run as `npm run` runs it. */
export interface ScriptRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `scripts/<file>` with tsx and `args`, from the repository root. */
export function runScript(file: string, args: string[]): ScriptRun {
  const result = spawnSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [path.join(REPO_ROOT, 'scripts', file), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The lines of a script's error output, without blank ones. */
export const errorLines = (run: ScriptRun) => run.stderr.split('\n').filter((line) => line.trim() !== '');
