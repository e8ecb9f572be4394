import { errorLines, runScript } from '../helpers/run-script';

describe('npm run ci:environments', () => {
  test('lists the production environments, whose diff runs in a reviewed GitHub environment', () => {
    expect(JSON.parse(runScript('ci-environments.ts', ['--diffs=reviewed']).stdout).sort()).toEqual(['prod', 'staging']);
  });

  test('refuses an argument it does not know in one line', () => {
    const run = runScript('ci-environments.ts', ['--diffs=all']);
    expect(run.status).toBe(2);
    expect(errorLines(run)).toEqual([expect.stringMatching(/^ci:environments: unknown arguments .*; usage: npm run --silent ci:environments/)]);
    expect(run.stdout).toBe('');
  });
});
