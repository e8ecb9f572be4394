import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { cdkJsonContext } from '../helpers/app';
import { runApp } from '../helpers/run-app';
import { scratchFolder } from '../helpers/scratch';

const VALID = {
  environmentType: 'development',
  account: '123456789012',
  region: 'eu-west-1',
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  network: { interfaceEndpoints: [], podHttpsEgress: 'anywhere', flowLogs: { retentionDays: 7 } },
  database: { multiAz: false, deletionProtection: false, backupRetentionDays: 1, logRetentionDays: 7 },
  cluster: { addons: { 'metrics-server': 'v0.8.0-eksbuild.2' }, logRetentionDays: 7 },
  mlflow: { hostname: 'mlflow.sandbox.example.internal', replicas: 1 },
};

const scratch = fs.mkdtempSync(path.join(scratchFolder(), 'app-test-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/**
 * Runs the app as the CDK CLI does (cdk.json's context passed in, `-c configDir` pointing at a
 * folder of environment files), in this process (test/helpers/run-app.ts).
 */
function runAppOn(files: Record<string, unknown>) {
  const configDir = fs.mkdtempSync(path.join(scratch, 'config-'));
  for (const [name, settings] of Object.entries(files)) {
    fs.writeFileSync(path.join(configDir, name), stringify(settings));
  }
  const outdir = path.join(fs.mkdtempSync(path.join(scratch, 'out-')), 'cdk.out');
  return { ...runApp({ ...cdkJsonContext(), configDir }, outdir), outdir };
}

// That the app synthesizes one stage per config file is stated in test/lib/compliance.test.ts,
// on the one run of the whole app that the compliance checks read.
describe('the app', () => {
  test('stops on a bad config with every problem, no stack trace and nothing written', () => {
    const { status, stderr, outdir } = runAppOn({
      'prod.yaml': { ...VALID, environmentType: 'production', network: { natGateways: 3 } },
    });
    expect(status).toBe(1);
    expect(stderr).toMatch(/Invalid configuration, nothing was synthesized \(\d+ problems\):/);
    expect(stderr).toMatch(/prod\.yaml: network\.natGateways: must not exceed the number of availabilityZones \(2\) \(received: 3\)/);
    expect(stderr).toMatch(/prod\.yaml: database\.deletionProtection: must be true when environmentType is production/);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(fs.existsSync(outdir) ? fs.readdirSync(outdir) : []).toEqual([]);
  });
});
