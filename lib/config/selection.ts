import type { EnvironmentConfig } from './schema';

/** The environments one synth builds, or why the request cannot be met. */
export type EnvironmentSelection =
  | { readonly ok: true; readonly environments: EnvironmentConfig[] }
  | { readonly ok: false; readonly message: string };

/**
 * The environments named in `requested` (a comma-separated list, as `-c environments=prod,staging` gives it), or
 * every environment when nothing is requested. An unknown name is refused, so a typo never synthesizes nothing.
 */
export function selectEnvironments(environments: EnvironmentConfig[], requested: unknown): EnvironmentSelection {
  if (requested === undefined || String(requested).trim() === '') {
    return { ok: true, environments };
  }
  const names = String(requested)
    .split(',')
    .map((name) => name.trim());
  const known = environments.map((config) => config.name);
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    return {
      ok: false,
      message: `environments: no environment named ${unknown.map((name) => `"${name}"`).join(', ')}; the config folder has ${known.join(', ')}`,
    };
  }
  return { ok: true, environments: environments.filter((config) => names.includes(config.name)) };
}
