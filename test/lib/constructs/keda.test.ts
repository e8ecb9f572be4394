import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { KEDA_CHART_DIRECTORY } from '../../../lib/constructs/keda';

describe('the vendored KEDA chart', () => {
  const chart = parse(fs.readFileSync(path.join(KEDA_CHART_DIRECTORY, 'Chart.yaml'), 'utf8'));

  test('is kedacore/charts keda 2.20.2, installing KEDA 2.20.2, as charts/helm/README.md records', () => {
    expect(chart).toMatchObject({ name: 'keda', version: '2.20.2', appVersion: '2.20.2' });
    const readme = fs.readFileSync(path.join(KEDA_CHART_DIRECTORY, '..', 'README.md'), 'utf8');
    expect(readme).toContain(`| keda | ${chart.version} |`);
  });

  test('needs no other chart, so the asset alone installs it', () => {
    expect(chart.dependencies ?? []).toEqual([]);
    expect(fs.existsSync(path.join(KEDA_CHART_DIRECTORY, 'charts'))).toBe(false);
  });
});
