import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { validateConfigFolder } from '../../scripts/validate';
import { CONFIG_DIR, MINIMAL_ENVIRONMENT as VALID, REPO_ROOT } from '../helpers/app';
import { scratchFolder } from '../helpers/scratch';

let folder: string;
beforeEach(() => {
  folder = fs.mkdtempSync(path.join(scratchFolder(), 'validate-test-'));
});
afterEach(() => fs.rmSync(folder, { recursive: true, force: true }));

const write = (file: string, settings: unknown) => fs.writeFileSync(path.join(folder, file), stringify(settings));

/** Runs `npm run validate` as a user would, returning its exit code and what it printed. */
function runValidate(...args: string[]): { status: number; output: string } {
  try {
    const stdout = execFileSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [path.join(REPO_ROOT, 'scripts', 'validate.ts'), ...args], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      stdio: 'pipe',
    });
    return { status: 0, output: stdout };
  } catch (error) {
    const failed = error as { status: number; stdout: string; stderr: string };
    return { status: failed.status, output: failed.stdout + failed.stderr };
  }
}

describe('npm run validate', () => {
  test('the committed config folder passes with a one-line summary', () => {
    const report = validateConfigFolder(CONFIG_DIR);
    expect(report.ok).toBe(true);
    expect(report.lines).toEqual([expect.stringMatching(/^OK: \d+ environments? valid in /)]);
  });

  test('prints one line a problem, naming the file and field, across every file', () => {
    write('dev.yaml', { ...VALID, network: { natGateways: 4, vpcCidr: '10.1.0.0/16' } });
    write('qa.yaml', { ...VALID, account: '1234', network: { vpcCidr: '10.2.0.0/16' }, gpuPools: [{ name: 'gpu', instanceFamilies: ['inf2'], gpuLimit: 1 }] });
    const report = validateConfigFolder(folder);
    expect(report.ok).toBe(false);
    expect(report.lines).toEqual([
      expect.stringMatching(/dev\.yaml: network\.natGateways: must not exceed the number of availabilityZones \(2\) \(received: 4\)$/),
      expect.stringMatching(/qa\.yaml: account: must be a 12-digit AWS account ID \(received: "1234"\)$/),
      expect.stringMatching(/qa\.yaml: gpuPools\[0\]\.instanceFamilies\[0\]: must be an NVIDIA GPU family: inf2 /),
    ]);
  });

  test('checks capacity and the rules across environments, not only each file', () => {
    write('dev.yaml', { ...VALID, network: { vpcCidr: '10.0.0.0/16' } });
    write('prod.yaml', { ...VALID, network: { vpcCidr: '10.5.0.0/16' }, cluster: { ...VALID.cluster, nodePool: { memoryLimitGiB: 4 } } });
    write('qa.yaml', { ...VALID, network: { vpcCidr: '10.0.0.0/16' } });
    const lines = validateConfigFolder(folder).lines;
    expect(lines).toEqual([
      expect.stringMatching(/prod\.yaml: cluster\.nodePool\.memoryLimitGiB: must cover what general pool needs at peak/),
      expect.stringMatching(/qa\.yaml: network\.vpcCidr: overlaps the VPC of environment "dev"/),
    ]);
  });

  test('a folder that does not exist gives one line', () => {
    expect(validateConfigFolder(path.join(folder, 'missing')).lines).toEqual([expect.stringMatching(/missing: is not a folder/)]);
  });

  test('exits 1 with only the problem lines on a bad folder, and 0 with the summary on a good one', () => {
    write('dev.yaml', { ...VALID, region: 'Ireland' });
    const bad = runValidate(folder);
    expect(bad.status).toBe(1);
    expect(bad.output.trim().split('\n')).toEqual([
      expect.stringMatching(/dev\.yaml: region: must be an AWS region code/),
      expect.stringMatching(/dev\.yaml: availabilityZones\[0\]: must be a zone of region Ireland/),
      expect.stringMatching(/dev\.yaml: availabilityZones\[1\]: must be a zone of region Ireland/),
    ]);
    write('dev.yaml', VALID);
    const good = runValidate(folder);
    expect(good).toEqual({ status: 0, output: expect.stringMatching(/^OK: 1 environment valid in .* \(dev\)\n$/) });
  });
});
