import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './helpers/app';

const read = (file: string) => fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');
const cdkJson = JSON.parse(read('cdk.json'));
const packageJson = JSON.parse(read('package.json'));

/** The commands in the README's Quick start code block. */
function quickStartCommands(): string[] {
  const readme = read('README.md');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const block = /```bash\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block.split('\n').filter((line) => line.trim() !== '');
}

describe('project settings', () => {
  test('the CDK CLI is pinned to the version that reads current aws-cdk-lib output', () => {
    expect(packageJson.devDependencies['aws-cdk']).toBe('2.1148.1');
  });

  test('every dependency is pinned to an exact version', () => {
    const all = { ...packageJson.dependencies, ...packageJson.devDependencies };
    for (const [name, version] of Object.entries(all)) {
      expect({ name, version }).toEqual({ name, version: expect.stringMatching(/^\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$/) });
    }
  });

  test('every Python lock file pins each package by hash and names no package source of the machine it was compiled on', () => {
    const locks = ['images/mlflow/requirements.txt', 'images/drift-report/requirements.txt', 'test/runtime/requirements.txt', 'scripts/policy/requirements.txt'];
    for (const lock of locks) {
      const text = read(lock);
      // One entry per package: `name==version \` followed by its hash lines.
      const entries = text.split(/\n(?=[A-Za-z0-9])/).filter((entry) => !entry.startsWith('#'));
      expect({ lock, options: text.split('\n').filter((line) => line.startsWith('-')) }).toEqual({ lock, options: [] });
      for (const entry of entries.filter((candidate) => candidate.trim() !== '')) {
        expect({ lock, entry: entry.split(' ')[0] }).toEqual({ lock, entry: expect.stringMatching(/^[A-Za-z0-9._-]+==[^=\s]+$/) });
        expect({ lock, entry: entry.split(' ')[0], hashed: /--hash=sha256:[0-9a-f]{64}/.test(entry) }).toMatchObject({ hashed: true });
      }
    }
  });

  test('the CLI shows no notices and sends no telemetry or version metadata', () => {
    expect(cdkJson).toMatchObject({ notices: false, versionReporting: false, context: { 'cli-telemetry': false } });
  });

  test('the app runs through tsx, and the unit tier type-checks before it tests', () => {
    // Type checking costs every synth 1.7 s and changes nothing in the output; the unit tier and `npm run typecheck` do it.
    // The pinned tsx is called directly: npx would spend a third of a second finding it.
    expect(cdkJson.app).toBe('node_modules/.bin/tsx bin/mlops-platform.ts');
    expect(packageJson.scripts['test:unit']).toBe('tsc && jest');
  });

  test('the test command runs the unit tier, then the runtime tier and the policy tools on their pinned setup', () => {
    expect(packageJson.scripts.test).toBe('npm run test:unit && npm run test:runtime && npm run test:policy');
    for (const tier of ['test:runtime', 'test:policy', 'bench:serving']) {
      expect(packageJson.scripts[tier]).toMatch(/^bash scripts\/setup-runtime\.sh && /);
    }
  });

  test('the built-in CloudFormation validation treats findings as errors', () => {
    expect(cdkJson.context['@aws-cdk/core:validateAgainstDefaultRules']).toBe(true);
  });

  test('synth runs through scripts/synth.ts, which starts from a clean folder and fails on any warning', () => {
    expect(packageJson.scripts.synth).toBe('tsx scripts/synth.ts');
    const script = fs.readFileSync(path.join(REPO_ROOT, 'scripts', 'synth.ts'), 'utf8');
    expect(script).toContain("fs.rmSync(path.join(ROOT, OUTDIR), { recursive: true, force: true })");
    expect(script).toContain("['synth', '--strict', '--quiet', '--output', OUTDIR]");
  });
});

describe('README Quick start', () => {
  test('holds exactly two commands: install and synthesize, install and test', () => {
    expect(quickStartCommands()).toEqual(['npm install && npm run synth', 'npm install && npm test']);
  });

  test('is what CI runs', () => {
    const ci = read('.ci/run');
    expect(ci).toMatch(/## Quick start/);
    expect(ci).toMatch(/grep -F 'npm test'/);
    expect(ci).toMatch(/grep -F 'npm run synth'/);
  });
});

describe('temporary folders of the unit tier', () => {
  /** Every TypeScript file under test/, by path relative to the repository. */
  const testFiles = (folder = path.join(REPO_ROOT, 'test')): string[] =>
    fs.readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
      const file = path.join(folder, entry.name);
      return entry.isDirectory() ? testFiles(file) : entry.name.endsWith('.ts') ? [path.relative(REPO_ROOT, file)] : [];
    });

  test("are made only in the run's scratch folder, which is removed also when tests fail or are interrupted", () => {
    // test/helpers/scratch.ts makes the scratch folder itself; cdk8s's `Testing.app()` makes one per call and never removes it.
    const outside = testFiles()
      .filter((file) => file !== path.join('test', 'helpers', 'scratch.ts'))
      .filter((file) => /mkdtempSync\([^)]*tmpdir\(\)|(?<!`)Testing\.app\(/.test(fs.readFileSync(path.join(REPO_ROOT, file), 'utf8')));
    expect(outside).toEqual([]);
  });
});
