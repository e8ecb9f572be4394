import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../../helpers/app';

const CONFIG_DIR = path.join(REPO_ROOT, 'lib', 'config');

/** The module specifiers a TypeScript file imports or re-exports. */
function importsOf(file: string): string[] {
  const source = fs.readFileSync(path.join(CONFIG_DIR, file), 'utf8');
  return [...source.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((match) => match[1]);
}

describe('the config layer', () => {
  test('imports only packages and its own modules, nothing from the stacks, constructs or charts above it', () => {
    const files = fs.readdirSync(CONFIG_DIR).filter((file) => file.endsWith('.ts'));
    expect(files).toContain('schema.ts');
    const upward = files.flatMap((file) => importsOf(file).filter((specifier) => specifier.startsWith('..')).map((specifier) => `${file} → ${specifier}`));
    expect(upward).toEqual([]);
  });

  test('the import scan sees a relative import', () => {
    expect(importsOf('load.ts')).toContain('./schema');
  });
});
