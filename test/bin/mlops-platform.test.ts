import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { cdkJsonContext, REPO_ROOT } from '../helpers/app';

const VALID = {
  environmentType: 'development',
  account: '123456789012',
  region: 'eu-west-1',
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  network: { interfaceEndpoints: [], flowLogs: { retentionDays: 7 } },
  database: { multiAz: false, deletionProtection: false, backupRetentionDays: 1, logRetentionDays: 7 },
  cluster: { addons: { 'metrics-server': 'v0.8.0-eksbuild.2' }, logRetentionDays: 7 },
  mlflow: { hostname: 'mlflow.sandbox.example.internal', replicas: 1 },
};

/** Runs the app as the CDK CLI does (cdk.json's context passed in), on a folder of environment files. */
function runApp(files: Record<string, unknown>) {
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'config-'));
  for (const [name, settings] of Object.entries(files)) {
    fs.writeFileSync(path.join(configDir, name), stringify(settings));
  }
  const outdir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'out-')), 'cdk.out');
  const result = spawnSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), ['bin/mlops-platform.ts'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJsonContext(), configDir }) },
  });
  return { ...result, outdir };
}

describe('the app', () => {
  test('stops on a bad config with every problem, no stack trace and nothing written', () => {
    const { status, stderr, outdir } = runApp({
      'prod.yaml': { ...VALID, environmentType: 'production', network: { natGateways: 3 } },
    });
    expect(status).toBe(1);
    expect(stderr).toMatch(/Invalid configuration, nothing was synthesized \(\d+ problems\):/);
    expect(stderr).toMatch(/prod\.yaml: network\.natGateways: must not exceed the number of availabilityZones \(2\) \(received: 3\)/);
    expect(stderr).toMatch(/prod\.yaml: database\.deletionProtection: must be true when environmentType is production/);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(fs.existsSync(outdir) ? fs.readdirSync(outdir) : []).toEqual([]);
  });

  test('synthesizes one stage per config file', () => {
    const { status, stderr, outdir } = runApp({ 'sandbox.yaml': VALID });
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
    expect(Object.keys(manifest.artifacts)).toContain('assembly-sandbox');
  });
});
