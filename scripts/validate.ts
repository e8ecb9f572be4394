// Checks every config file as synth would (schema, rules across fields, capacity, and the checks
// across environments) without type-checking the project or synthesizing: the quick check to run
// after each config edit. One line a problem and exit 1, or one line saying all is well.
// Usage: npm run validate [-- <config folder>]
import * as path from 'node:path';
import { formatProblem, loadEnvironments } from '../lib/config/load';

/** The outcome of checking a config folder: what to print, and whether it passed. */
export interface ValidationReport {
  /** True when every environment is valid. */
  readonly ok: boolean;
  /** One line a problem, or one summary line when there are none. */
  readonly lines: string[];
}

/** Checks every environment file in `folder`. */
export function validateConfigFolder(folder: string): ValidationReport {
  const loaded = loadEnvironments(folder);
  if (!loaded.ok) {
    return { ok: false, lines: loaded.problems.map(formatProblem) };
  }
  const names = loaded.environments.map((environment) => environment.name);
  const shown = path.relative(process.cwd(), folder) || '.';
  return { ok: true, lines: [`OK: ${names.length} environment${names.length === 1 ? '' : 's'} valid in ${shown} (${names.join(', ')})`] };
}

if (require.main === module) {
  const report = validateConfigFolder(process.argv[2] ?? path.join(__dirname, '..', 'config'));
  if (report.ok) {
    console.log(report.lines.join('\n'));
  } else {
    console.error(report.lines.join('\n'));
    process.exitCode = 1;
  }
}
