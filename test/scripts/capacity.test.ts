import { errorLines, runScript } from '../helpers/run-script';

describe('npm run capacity', () => {
  test('refuses an environment it does not know in one line, without a stack trace', () => {
    const run = runScript('capacity.ts', ['stagin']);
    expect(run.status).toBe(1);
    expect(errorLines(run)).toEqual([expect.stringMatching(/^capacity: no environment stagin in config \(it has dev, prod, staging\); usage: npm run capacity/)]);
    expect(run.stdout).toBe('');
  });
});
