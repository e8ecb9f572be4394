import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The environment variable through which Jest's globalSetup hands the run's scratch folder to the test files. */
export const SCRATCH_ENV = 'MLOPS_TEST_SCRATCH';

/** Removes the folder when this process exits (a crash included); returns what undoes that. */
function removeOnExit(folder: string): () => void {
  const remove = () => fs.rmSync(folder, { recursive: true, force: true, maxRetries: 2 });
  process.once('exit', remove);
  return () => process.off('exit', remove);
}

function temporaryFolder(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-unit-tests-'));
}

let undoSetup: (() => void) | undefined;

/**
 * Jest's globalSetup (jest.config.js): makes the run's scratch folder, where the first test file
 * that needs it synthesizes the committed environments once for every file
 * (test/helpers/committed-assembly.ts). The workers start after this and inherit the variable.
 */
export function globalSetup(): void {
  const folder = temporaryFolder();
  process.env[SCRATCH_ENV] = folder;
  const undoExit = removeOnExit(folder);
  // An interrupted run ends without 'exit' and without globalTeardown: clean up, then end as asked.
  const onSignal = (signal: NodeJS.Signals) => {
    try {
      fs.rmSync(folder, { recursive: true, force: true, maxRetries: 2 });
    } finally {
      process.kill(process.pid, signal);
    }
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  undoSetup = () => {
    undoExit();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** Jest's globalTeardown: removes the run's scratch folder, whether the tests passed or not. */
export function globalTeardown(): void {
  const scratch = process.env[SCRATCH_ENV];
  if (scratch) {
    fs.rmSync(scratch, { recursive: true, force: true });
    delete process.env[SCRATCH_ENV];
  }
  undoSetup?.();
  undoSetup = undefined;
}

/** The run's scratch folder; without globalSetup (another Jest config), one of this process's own. */
export function scratchFolder(): string {
  let folder = process.env[SCRATCH_ENV];
  if (!folder) {
    folder = temporaryFolder();
    removeOnExit(folder);
    process.env[SCRATCH_ENV] = folder;
  }
  return folder;
}
