import { selectEnvironments } from '../../scripts/environment-selection';

describe('selectEnvironments', () => {
  test('selects every committed environment when none is named', () => {
    const selected = selectEnvironments('report', []);
    expect(selected.ok && selected.environments.map((config) => config.name).sort()).toEqual(['dev', 'prod', 'staging']);
  });

  test('selects only the environments named', () => {
    const selected = selectEnvironments('report', ['staging']);
    expect(selected.ok && selected.environments.map((config) => config.name)).toEqual(['staging']);
  });

  test.each([
    [['stagin'], /^report: no environment stagin in config \(it has dev, prod, staging\); usage: npm run report /],
    [['--config', 'no-such-folder'], /^report: no-such-folder: is not a folder/],
    [['--config'], /^report: unknown option --config; usage: npm run report \[-- \[--config <folder>\] \[<environment>\.\.\.\]\]$/],
    [['--bogus', 'staging'], /^report: unknown option --bogus; usage/],
  ])('refuses %j in one line', (args, message) => {
    const selected = selectEnvironments('report', args);
    expect(selected).toEqual({ ok: false, lines: [expect.stringMatching(message)] });
  });
});
