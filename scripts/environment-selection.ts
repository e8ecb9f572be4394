// The arguments every per-environment report script takes: `[--config <folder>] [<environment>...]`,
// checked before anything runs so that a mistake costs one line, not a stack trace.
import * as path from 'node:path';
import { formatProblem, loadEnvironments } from '../lib/config/load';
import { EnvironmentConfig } from '../lib/config/schema';

/** The committed config folder, the default of `--config`. */
export const CONFIG_DIR = path.join(__dirname, '..', 'config');

/** The environments asked for, or the lines that say why there are none. */
export type EnvironmentSelection =
  | { readonly ok: true; readonly environments: EnvironmentConfig[] }
  | { readonly ok: false; readonly lines: string[] };

/** The environments that `args` name in the folder they name (every one when no name is given). */
export function selectEnvironments(script: string, args: readonly string[]): EnvironmentSelection {
  const usage = `usage: npm run ${script} [-- [--config <folder>] [<environment>...]]`;
  let configDir = CONFIG_DIR;
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--config' && args[i + 1] !== undefined && !args[i + 1].startsWith('-')) {
      configDir = args[++i];
    } else if (args[i].startsWith('-')) {
      return { ok: false, lines: [`${script}: unknown option ${args[i]}; ${usage}`] };
    } else {
      names.push(args[i]);
    }
  }
  const loaded = loadEnvironments(configDir);
  if (!loaded.ok) {
    return { ok: false, lines: loaded.problems.map((problem) => `${script}: ${formatProblem(problem)}`) };
  }
  const known = loaded.environments.map((config) => config.name);
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    const where = path.relative(process.cwd(), configDir) || '.';
    return { ok: false, lines: [`${script}: no environment ${unknown.join(', ')} in ${where} (it has ${known.join(', ')}); ${usage}`] };
  }
  return { ok: true, environments: names.length === 0 ? loaded.environments : loaded.environments.filter((config) => names.includes(config.name)) };
}
