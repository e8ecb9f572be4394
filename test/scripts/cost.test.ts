import { costReport } from '../../scripts/cost';
import { fixtureConfigFolder, MINIMAL_ENVIRONMENT } from '../helpers/app';
import { runScript } from '../helpers/run-script';

describe('npm run cost', () => {
  test('lists the biggest line first and names the fields that change the biggest three', () => {
    const line = (item: string, field: string, monthly: number) => ({ item, field, monthlyAtMin: monthly, monthlyAtMax: monthly, detail: '' });
    const report = costReport({
      environment: 'test',
      region: 'eu-west-1',
      lines: [line('Small', 'a', 10), line('Big', 'b', 1000), line('Middle', 'c', 100), line('Tiny', 'd', 1)],
      totalAtMin: 1111,
      totalAtMax: 1111,
      unverified: [],
    }).split('\n');
    expect(report.slice(2, 6).map((row) => row.trim().split(/\s+/)[0])).toEqual(['Big', 'Middle', 'Small', 'Tiny']);
    expect(report.at(-2)).toMatch(/^ {2}total +\$1,111 +\$1,111$/);
    expect(report.at(-1)).toBe('  biggest: Big (b); Middle (c); Small (a)');
  });

  test('prints one environment with its price table, unverified prices and node assumptions', () => {
    const configDir = fixtureConfigFolder({ sandbox: MINIMAL_ENVIRONMENT, live: { ...MINIMAL_ENVIRONMENT, network: { vpcCidr: '10.1.0.0/16' } } });
    const run = runScript('cost.ts', ['--config', configDir, 'sandbox']);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^Prices: scripts\/cost\/prices\.json of \d{4}-\d{2}-\d{2} \(USD, 730 hours a month\)/);
    expect(run.stdout).toContain('\nsandbox (eu-west-1), per month, models at min and at max replicas\n');
    expect(run.stdout).not.toContain('\nlive (');
    expect(run.stdout).toMatch(/UNVERIFIED prices used: /);
    expect(run.stdout).toContain('Nodes: Auto Mode (Karpenter) launches what pending pods request');
  });
});
