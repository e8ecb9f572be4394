import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { environmentSchema } from '../../lib/config/schema';
import { checkConfigReference, renderConfigReference } from '../../scripts/config-reference';
import { REPO_ROOT } from '../helpers/app';
import { errorLines, runScript } from '../helpers/run-script';

const OUT_OF_DATE = 'docs/config-reference.md is out of date: run npm run docs:config';

/**
 * Paths of the fields that hold no fields of their own, found by walking the JSON Schema here
 * rather than with the renderer's code, so a field the renderer skips is noticed.
 */
function leafPaths(schema: z.core.JSONSchema._JSONSchema, fieldPath: string): string[] {
  if (typeof schema === 'boolean') {
    return [];
  }
  const entry = typeof schema.items === 'object' && !Array.isArray(schema.items) ? schema.items : undefined;
  if (entry?.properties) {
    return leafPaths(entry, `${fieldPath}[]`);
  }
  // A field of several shapes (a union): itself, and the fields of the shapes that are objects.
  const objects = (schema.anyOf ?? []).filter((alternative) => typeof alternative === 'object' && alternative.properties);
  if (objects.length > 0) {
    return [fieldPath, ...objects.flatMap((alternative) => leafPaths(alternative, fieldPath))];
  }
  if (!schema.properties) {
    return [fieldPath];
  }
  return Object.entries(schema.properties).flatMap(([name, child]) => leafPaths(child, fieldPath === '' ? name : `${fieldPath}.${name}`));
}

describe('config reference', () => {
  const rendered = renderConfigReference();

  test('docs/config-reference.md is what npm run docs:config writes from the current schema', () => {
    const committed = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'config-reference.md'), 'utf8');
    expect(checkConfigReference(committed)).toBeUndefined();
  });

  test('has a row for every field of the schema', () => {
    const fields = leafPaths(z.toJSONSchema(environmentSchema, { io: 'input' }), '');
    expect(fields).toContain('teams[].models[].exposure.allowedNamespaces');
    expect(fields).toContain('teams[].models[].drift.reference.artifactPath');
    const missing = fields.filter((field) => !rendered.includes(`\n| \`${field}\` |`));
    expect(missing).toEqual([]);
  });

  test('the check reports a reference that lacks a row the schema has', () => {
    const stale = rendered.replace(/^\| `mlflow\.replicas` .*\n/m, '');
    expect(stale).not.toBe(rendered);
    expect(checkConfigReference(stale)).toBe(OUT_OF_DATE);
  });

  test('npm run docs:config refuses an unknown argument in one line and writes nothing', () => {
    const file = path.join(REPO_ROOT, 'docs', 'config-reference.md');
    const before = fs.statSync(file).mtimeMs;
    const run = runScript('config-reference.ts', ['--chek']);
    expect(run.status).toBe(2);
    expect(errorLines(run)).toEqual([expect.stringMatching(/^docs:config: unknown arguments '--chek', nothing written; usage: npm run docs:config \[-- --check\]$/)]);
    expect(fs.statSync(file).mtimeMs).toBe(before);
  });
});
