import * as path from 'node:path';
import { format } from 'node:util';
import { App } from 'aws-cdk-lib';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { REPO_ROOT } from './app';

/** What a run of the app's entry point did. */
export interface AppRun {
  /** The exit code: the one given to process.exit, 1 for an uncaught error, else 0. */
  readonly status: number;
  /** Everything written to stderr, an uncaught error's stack trace included. */
  readonly stderr: string;
  /** The app the entry point synthesized, if it got that far. */
  readonly app?: App;
  /** What its synth returned. */
  readonly assembly?: CloudAssembly;
  /** What its synth threw. */
  readonly synthError?: Error;
}

class Exit extends Error {
  constructor(readonly code: number) {
    super(`process.exit(${code})`);
  }
}

let ran = false;

/**
 * Runs bin/mlops-platform.ts in this process the way the CDK CLI runs it in a child process:
 * `context` (cdk.json's, with any `-c` values) in CDK_CONTEXT_JSON, the output folder in
 * CDK_OUTDIR. Output to stderr is collected; process.exit ends the run with its code, and an
 * uncaught error with code 1 and its stack trace on stderr, as Node would.
 *
 * Jest keeps a loaded module for the rest of a test file, so this runs once per file.
 */
export function runApp(context: Record<string, unknown>, outdir: string): AppRun {
  if (ran) {
    throw new Error('runApp runs the app once per test file');
  }
  ran = true;
  const stderr: string[] = [];
  const collect = (...args: unknown[]) => {
    stderr.push(`${format(...args)}\n`);
  };
  const onWarning = (warning: Error) => collect(`${warning.name}: ${warning.message}`);
  const environment = { CDK_CONTEXT_JSON: process.env.CDK_CONTEXT_JSON, CDK_OUTDIR: process.env.CDK_OUTDIR };
  process.env.CDK_CONTEXT_JSON = JSON.stringify(context);
  process.env.CDK_OUTDIR = outdir;
  process.on('warning', onWarning);
  const spies = [
    jest.spyOn(console, 'error').mockImplementation(collect),
    jest.spyOn(console, 'warn').mockImplementation(collect),
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr.push(String(chunk));
      return true;
    }),
    jest.spyOn(process, 'exit').mockImplementation((code?: string | number | null) => {
      throw new Exit(Number(code ?? 0));
    }),
  ];
  const synth = jest.spyOn(App.prototype, 'synth');
  let status = 0;
  try {
    require(path.join(REPO_ROOT, 'bin', 'mlops-platform'));
  } catch (error) {
    if (error instanceof Exit) {
      status = error.code;
    } else {
      status = 1;
      stderr.push(`${error instanceof Error ? error.stack : String(error)}\n`);
    }
  } finally {
    for (const spy of spies) {
      spy.mockRestore();
    }
    process.off('warning', onWarning);
    for (const [name, value] of Object.entries(environment)) {
      if (value === undefined) {
        delete process.env[name];
      } else {
        process.env[name] = value;
      }
    }
  }
  const call = synth.mock.results[0];
  const app = synth.mock.contexts[0] as App | undefined;
  synth.mockRestore();
  return {
    status,
    stderr: stderr.join(''),
    app,
    assembly: call?.type === 'return' ? (call.value as CloudAssembly) : undefined,
    synthError: call?.type === 'throw' ? (call.value as Error) : undefined,
  };
}
