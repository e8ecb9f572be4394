import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { ciTargets } from '../../lib/config/derived';
import { committedEnvironments, REPO_ROOT } from '../helpers/app';

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string>;
}

interface Job {
  needs?: string | string[];
  if?: string;
  environment?: string | { name: string };
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  permissions?: Record<string, string>;
  steps: Step[];
}

interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const WORKFLOWS = path.join(REPO_ROOT, '.github', 'workflows');
const files = fs.readdirSync(WORKFLOWS).filter((file) => /\.ya?ml$/.test(file));
const workflows = Object.fromEntries(files.map((file) => [file, parse(fs.readFileSync(path.join(WORKFLOWS, file), 'utf8')) as Workflow]));
const allJobs = Object.values(workflows).flatMap((workflow) => Object.entries(workflow.jobs));
const scripts = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
const deploy = workflows['deploy.yml'];
const environments = committedEnvironments();

const needsOf = (job: Job) => [job.needs ?? []].flat();
const usesAws = (job: Job) => job.steps.some((step) => step.uses?.startsWith('aws-actions/configure-aws-credentials@'));

describe('GitHub Actions workflows', () => {
  test('parse as workflows with triggers and jobs', () => {
    expect(files.sort()).toEqual(['ci.yml', 'deploy.yml']);
    for (const workflow of Object.values(workflows)) {
      expect(Object.keys(workflow.on).length).toBeGreaterThan(0);
      expect(Object.keys(workflow.jobs).length).toBeGreaterThan(0);
      expect(workflow.permissions).toEqual({ contents: 'read' });
    }
  });

  test('run only npm commands that package.json defines', () => {
    const commands = allJobs.flatMap(([, job]) => job.steps.map((step) => step.run).filter((run): run is string => run !== undefined));
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) {
      for (const [, verb, script] of command.matchAll(/\bnpm (?:--silent )?(run(?: --silent)?|test|ci)\b(?: ([\w:-]+))?/g)) {
        if (verb.startsWith('run')) {
          expect([command, scripts[script] !== undefined]).toEqual([command, true]);
        }
      }
      // Tools run through package.json scripts, so their pinned versions and flags live in one place.
      expect(command).not.toMatch(/\bnpx\b|^cdk\s/);
    }
    expect(scripts.test).toBeDefined();
  });

  test('pin every action to a full commit SHA', () => {
    for (const [, job] of allJobs) {
      for (const step of job.steps.filter((candidate) => candidate.uses)) {
        expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
      }
    }
  });

  test('check every change with the tests and the synth, without AWS credentials, and keep the cloud assembly', () => {
    const test = workflows['ci.yml'].jobs.test;
    expect(workflows['ci.yml'].on).toHaveProperty('pull_request');
    expect(test.steps.map((step) => step.run).filter(Boolean)).toEqual(expect.arrayContaining(['npm ci', 'sudo env "PATH=$PATH" npm test', 'npm run synth']));
    expect(test.steps.find((step) => step.uses?.startsWith('actions/upload-artifact@'))?.with?.path).toBe('cdk.out');
    expect(test.steps.find((step) => step.uses?.startsWith('actions/setup-node@'))?.with?.cache).toBe('npm');
    expect(usesAws(test)).toBe(false);
    expect(test.permissions?.['id-token']).toBeUndefined();
  });

  test.each(['diff', 'diff-reviewed'])('%s: diffs pull requests per environment only where AWS access is configured, through the read-only role', (id) => {
    const diff = workflows['ci.yml'].jobs[id];
    expect(diff.if).toMatch(/vars\.AWS_DIFF_ENABLED == 'true'/);
    expect(diff.permissions).toEqual({ contents: 'read', 'id-token': 'write', 'pull-requests': 'write' });
    const credentials = diff.steps.find((step) => step.uses?.startsWith('aws-actions/configure-aws-credentials@'));
    expect(credentials?.with?.['role-to-assume']).toMatch(/\.diffRoleArn \}\}$/);
    expect(diff.steps.map((step) => step.run)).toContain('npm run diff -- "${{ matrix.environment }}/*" > diff.txt 2>&1 || true');
    expect(scripts.diff).toMatch(/--no-change-set/);
  });

  test('diff production environments only in their reviewed GitHub environment, which their diff roles trust', () => {
    const { diff, 'diff-reviewed': reviewed } = workflows['ci.yml'].jobs;
    expect(diff.environment).toBeUndefined();
    expect(diff.if).toContain("needs.test.outputs.pull-request-diffs != '[]'");
    expect(reviewed.if).toContain("needs.test.outputs.reviewed-diffs != '[]'");
    expect(reviewed.environment).toBe('${{ matrix.environment }}-diff');
    const targets = ciTargets(environments);
    for (const config of environments) {
      expect([config.name, targets[config.name].diffEnvironment]).toEqual([
        config.name,
        config.environmentType === 'production' ? `${config.name}-diff` : null,
      ]);
    }
  });

  test('run every job on one Node.js LTS line whose bundled npm is the one package.json requires', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    const versions = allJobs.flatMap(([, job]) => job.steps.filter((step) => step.uses?.startsWith('actions/setup-node@')).map((step) => String(step.with?.['node-version'])));
    expect(versions.length).toBe(allJobs.length);
    expect(new Set(versions).size).toBe(1);
    // Even majors become LTS; Node.js 24 and later bundle npm 11, which writes package-lock.json as committed.
    const major = Number(versions[0]);
    expect([major % 2, major >= 24]).toEqual([0, true]);
    expect(manifest.devEngines.packageManager).toEqual({ name: 'npm', version: '>=11', onFail: 'error' });
  });

  test('install exactly what package-lock.json pins, with npm ci', () => {
    const installs = allJobs.flatMap(([, job]) => job.steps.map((step) => step.run ?? '').filter((run) => /\bnpm (ci|install|i)\b/.test(run)));
    expect(installs.length).toBeGreaterThan(0);
    expect(new Set(installs)).toEqual(new Set(['npm ci']));
  });

  test.each(environments.map((config) => config.name))('deploy %s in a job of its own, behind its GitHub environment', (name) => {
    const job = deploy.jobs[`deploy-${name}`];
    expect(job).toBeDefined();
    expect(job.environment).toBe(name);
    expect(job.concurrency).toEqual({ group: `deploy-${name}`, 'cancel-in-progress': false });
    expect(needsOf(job)).toContain('build');
    const runs = job.steps.map((step) => step.run).filter(Boolean);
    expect(runs).toEqual(['npm ci', `npm run deploy:assembly -- "${name}/*"`]);
    const credentials = job.steps.find((step) => step.uses?.startsWith('aws-actions/configure-aws-credentials@'));
    expect(credentials?.with).toEqual({
      'role-to-assume': `\${{ fromJSON(needs.build.outputs.targets).${name}.deployRoleArn }}`,
      'aws-region': `\${{ fromJSON(needs.build.outputs.targets).${name}.region }}`,
    });
  });

  test('a person running npm run deploy synthesizes first and keeps the approval of security changes', () => {
    expect(scripts.deploy).toBe('npm run synth && cdk deploy --app cdk.out');
    expect(scripts.deploy).not.toMatch(/require-approval/);
  });

  test('deploy from the assembly the build job made, development environments on merge and the others after them', () => {
    expect(deploy.on).toHaveProperty('push', { branches: ['main'] });
    expect(scripts['deploy:assembly']).toBe('cdk deploy --app cdk.out --require-approval never');
    const deployJobs = Object.keys(deploy.jobs).filter((id) => id.startsWith('deploy-'));
    expect(deployJobs.sort()).toEqual(environments.map((config) => `deploy-${config.name}`).sort());
    // Stated over whatever environments config holds, so renaming or adding one breaks nothing here.
    const typeOf = (id: string) => environments.find((config) => `deploy-${config.name}` === id)?.environmentType;
    const first = deployJobs.filter((id) => !needsOf(deploy.jobs[id]).some((need) => need.startsWith('deploy-')));
    expect(first.length).toBeGreaterThan(0);
    expect(first.map((id) => [id, typeOf(id)])).toEqual(first.map((id) => [id, 'development']));
  });

  test('reach AWS through OIDC only, never with stored keys', () => {
    for (const [, job] of allJobs.filter(([, candidate]) => usesAws(candidate))) {
      expect(job.permissions?.['id-token']).toBe('write');
      for (const step of job.steps.filter((candidate) => candidate.uses?.startsWith('aws-actions/'))) {
        expect(Object.keys(step.with ?? {}).sort()).toEqual(['aws-region', 'role-to-assume']);
      }
    }
    const text = files.map((file) => fs.readFileSync(path.join(WORKFLOWS, file), 'utf8')).join('\n');
    expect(text).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|secrets\.AWS/);
  });

  test('find each environment\'s roles under the names the CiIdentity stack gives them', () => {
    expect(Object.keys(ciTargets(environments)).sort()).toEqual(environments.map((config) => config.name).sort());
    for (const config of environments) {
      expect(ciTargets(environments)[config.name]).toEqual({
        account: config.account,
        region: config.region,
        deployRoleArn: `arn:aws:iam::${config.account}:role/${config.namePrefix}-${config.name}-github-deploy`,
        diffRoleArn: `arn:aws:iam::${config.account}:role/${config.namePrefix}-${config.name}-github-diff`,
        diffEnvironment: config.environmentType === 'production' ? `${config.name}-diff` : null,
      });
    }
  });
});
