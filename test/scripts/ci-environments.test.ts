import { committedEnvironments, CONFIG_DIR, fixtureConfigFolder, MINIMAL_ENVIRONMENT } from '../helpers/app';
import { errorLines, runScript } from '../helpers/run-script';

const CI = { githubRepository: 'example-org/mlops-platform' };

/** A config folder of its own: a development and a production environment with CI. */
function fixtureConfigDir(): string {
  return fixtureConfigFolder({
    sandbox: { ...MINIMAL_ENVIRONMENT, ci: CI },
    live: {
      ...MINIMAL_ENVIRONMENT,
      environmentType: 'production',
      account: '210987654321',
      network: { vpcCidr: '10.1.0.0/16' },
      mlflow: { hostname: 'mlflow.live.example.internal', replicas: 2 },
      ingress: { certificateArn: 'arn:aws:acm:eu-west-1:210987654321:certificate/00000000-0000-0000-0000-000000000000' },
      ci: CI,
    },
  });
}

describe('npm run ci:environments', () => {
  test('lists the production environments as diffed in a reviewed GitHub environment, the others as diffed by any pull request', () => {
    const configDir = fixtureConfigDir();
    expect(JSON.parse(runScript('ci-environments.ts', ['--config', configDir, '--diffs=reviewed']).stdout)).toEqual(['live']);
    expect(JSON.parse(runScript('ci-environments.ts', ['--config', configDir, '--diffs=pull-request']).stdout)).toEqual(['sandbox']);
  });

  test('reads the environments of the folder --config names, before or after the selection', () => {
    const configDir = fixtureConfigDir();
    expect(JSON.parse(runScript('ci-environments.ts', ['--diffs=reviewed', '--config', configDir]).stdout)).toEqual(['live']);
    expect(JSON.parse(runScript('ci-environments.ts', ['--config', configDir]).stdout).live).toEqual({
      account: '210987654321',
      region: 'eu-west-1',
      deployRoleArn: 'arn:aws:iam::210987654321:role/mlops-live-github-deploy',
      diffRoleArn: 'arn:aws:iam::210987654321:role/mlops-live-github-diff',
      diffEnvironment: 'live-diff',
    });
  });

  test('puts every environment of the config folder that has CI in exactly one of the diff lists', () => {
    const withCi = committedEnvironments()
      .filter((config) => config.ci !== undefined)
      .map((config) => config.name)
      .sort();
    const list = (args: string[]): string[] => JSON.parse(runScript('ci-environments.ts', ['--config', CONFIG_DIR, ...args]).stdout);
    expect(Object.keys(list([])).sort()).toEqual(withCi);
    expect([...list(['--diffs=pull-request']), ...list(['--diffs=reviewed'])].sort()).toEqual(withCi);
  });

  test.each([[['--diffs=all']], [['--config']], [['--diffs=reviewed', '--diffs=reviewed']]])('refuses %j in one line', (args) => {
    const run = runScript('ci-environments.ts', args);
    expect(run.status).toBe(2);
    expect(errorLines(run)).toEqual([expect.stringMatching(/^ci:environments: unknown arguments .*; usage: npm run --silent ci:environments \[-- \[--config <folder>\]/)]);
    expect(run.stdout).toBe('');
  });

  test('names a config folder that is not one, in one line', () => {
    const run = runScript('ci-environments.ts', ['--config', 'no-such-folder']);
    expect(run.status).toBe(1);
    expect(errorLines(run)).toEqual([expect.stringMatching(/^ci:environments: no-such-folder: is not a folder/)]);
  });
});
