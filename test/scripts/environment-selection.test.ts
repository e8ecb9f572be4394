import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONFIG_DIR as DEFAULT_CONFIG_DIR, selectEnvironments } from '../../scripts/environment-selection';
import { fixtureConfigFolder, MINIMAL_ENVIRONMENT, REPO_ROOT } from '../helpers/app';

describe('selectEnvironments', () => {
  const configDir = fixtureConfigFolder({ sandbox: MINIMAL_ENVIRONMENT, live: { ...MINIMAL_ENVIRONMENT, network: { vpcCidr: '10.1.0.0/16' } } });
  const names = (args: string[]) => {
    const selected = selectEnvironments('report', args);
    return selected.ok && selected.environments.map((config) => config.name).sort();
  };

  test('selects every environment of the folder when none is named', () => {
    expect(names(['--config', configDir])).toEqual(['live', 'sandbox']);
  });

  test('selects only the environments named', () => {
    expect(names(['--config', configDir, 'live'])).toEqual(['live']);
  });

  test("reads the repository's config folder without --config", () => {
    expect(DEFAULT_CONFIG_DIR).toBe(path.join(REPO_ROOT, 'config'));
    const files = fs.readdirSync(DEFAULT_CONFIG_DIR).filter((file) => file.endsWith('.yaml'));
    expect(names([])).toEqual(files.map((file) => path.basename(file, '.yaml')).sort());
  });

  test('refuses an environment the folder does not have in one line, naming the ones it has', () => {
    expect(selectEnvironments('report', ['--config', configDir, 'sandbx'])).toEqual({
      ok: false,
      lines: [expect.stringMatching(/^report: no environment sandbx in \S+ \(it has live, sandbox\); usage: npm run report /)],
    });
  });

  test.each([
    [['--config', 'no-such-folder'], /^report: no-such-folder: is not a folder/],
    [['--config'], /^report: unknown option --config; usage: npm run report \[-- \[--config <folder>\] \[<environment>\.\.\.\]\]$/],
    [['--bogus', 'sandbox'], /^report: unknown option --bogus; usage/],
  ])('refuses %j in one line', (args, message) => {
    const selected = selectEnvironments('report', args);
    expect(selected).toEqual({ ok: false, lines: [expect.stringMatching(message)] });
  });
});
