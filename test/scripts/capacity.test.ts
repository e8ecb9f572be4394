import { fixtureConfigFolder, MINIMAL_ENVIRONMENT } from '../helpers/app';
import { errorLines, runScript } from '../helpers/run-script';

describe('npm run capacity', () => {
  test('refuses an environment it does not know in one line, without a stack trace', () => {
    const configDir = fixtureConfigFolder({ sandbox: MINIMAL_ENVIRONMENT, live: { ...MINIMAL_ENVIRONMENT, network: { vpcCidr: '10.1.0.0/16' } } });
    const run = runScript('capacity.ts', ['--config', configDir, 'sandbx']);
    expect(run.status).toBe(1);
    expect(errorLines(run)).toEqual([expect.stringMatching(/^capacity: no environment sandbx in \S+ \(it has live, sandbox\); usage: npm run capacity/)]);
    expect(run.stdout).toBe('');
  });
});
