import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import {
  compareWithLock,
  formatLock,
  lockFile,
  lockFolder,
  lockProblem,
  main,
  PinnedResource,
  readLock,
  statefulResources,
  StatefulLock,
} from '../../scripts/pin';
import { MINIMAL_ENVIRONMENT, MINIMAL_MODEL, MINIMAL_VERSION } from '../helpers/app';
import { scratchFolder } from '../helpers/scratch';

/** A development environment with one team and one CPU model. */
const ENVIRONMENT = {
  ...MINIMAL_ENVIRONMENT,
  ingress: { servingDomain: 'models.sandbox.example.internal' },
  teams: [
    {
      name: 'growth',
      quota: { cpu: 8, memoryGiB: 16, pods: 20 },
      models: [MINIMAL_MODEL],
    },
  ],
};

const resource = (stack: string, logicalId: string, type = 'AWS::ECR::Repository'): PinnedResource => ({ stack, logicalId, type });
const DATABASE = resource('Data', 'MlflowDatabaseInstance2F7DD6DC', 'AWS::RDS::DBInstance');
const CHURN = resource('Data', 'RepositoriesModelchurnABCD1234');
const TAGGER = resource('Data', 'RepositoriesModeltaggerABCD1234');

let scratch: string;
beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(scratchFolder(), 'pin-test-'));
});
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A folder holding `config/` with the given environments, and where its `locks/` go. */
function repository(environments: Record<string, unknown>): { configDir: string; lockDir: string } {
  const root = fs.mkdtempSync(path.join(scratch, 'repo-'));
  const configDir = path.join(root, 'config');
  fs.mkdirSync(configDir);
  for (const [name, settings] of Object.entries(environments)) {
    fs.writeFileSync(path.join(configDir, `${name}.yaml`), stringify(settings));
  }
  return { configDir, lockDir: lockFolder(configDir) };
}

/** Two environments on distinct networks, so the loader accepts them together. */
function twoEnvironments() {
  return repository({
    dev: { ...ENVIRONMENT, network: { vpcCidr: '10.10.0.0/16' } },
    prod: { ...ENVIRONMENT, network: { vpcCidr: '10.30.0.0/16' } },
  });
}

/** Runs `npm run pin` with `argv` against a fake synth, collecting what it prints. */
function pin(argv: string[], synthesized: Record<string, PinnedResource[]>) {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
  const error = jest.spyOn(console, 'error').mockImplementation((line: string) => void err.push(line));
  try {
    const status = main(argv, (environments) => Object.fromEntries(environments.map((config) => [config.name, synthesized[config.name] ?? []])));
    return { status, out, err };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

const lockOf = (environment: string, resources: PinnedResource[], dropped: StatefulLock['dropped'] = []): StatefulLock => ({ environment, resources, dropped });

describe('finding stateful resources', () => {
  test('takes databases, buckets, repositories, keys, secrets and log groups from a template, and nothing else', () => {
    const template = {
      Resources: {
        Db: { Type: 'AWS::RDS::DBInstance' },
        Bucket: { Type: 'AWS::S3::Bucket' },
        Repo: { Type: 'AWS::ECR::Repository' },
        Key: { Type: 'AWS::KMS::Key' },
        Secret: { Type: 'AWS::SecretsManager::Secret' },
        Logs: { Type: 'AWS::Logs::LogGroup' },
        Role: { Type: 'AWS::IAM::Role' },
      },
    };
    expect(statefulResources('Data', template).map((found) => found.logicalId)).toEqual(['Db', 'Bucket', 'Repo', 'Key', 'Secret', 'Logs']);
    expect(statefulResources('Data', {})).toEqual([]);
  });

  test('counts a resource moved to another stack as gone from one and new in the other', () => {
    const moved = { ...DATABASE, stack: 'Cluster' };
    expect(compareWithLock([DATABASE], [moved])).toEqual({ added: [moved], gone: [DATABASE] });
  });
});

describe('checking a lock', () => {
  const elsewhere = path.join(os.tmpdir(), 'adopter', 'config');

  test('passes when the lock and the synthesized resources agree', () => {
    expect(lockProblem('dev', lockOf('dev', [DATABASE, CHURN]), [CHURN, DATABASE], path.resolve('config'))).toBeUndefined();
  });

  test('asks for npm run pin when an environment has no lock', () => {
    expect(lockProblem('qa', undefined, [DATABASE], path.resolve('config'))).toMatch(/^qa: no stateful resources pinned \(no locks\/qa\.json\): run npm run pin$/);
  });

  test('asks for npm run pin when a new stateful resource is not pinned', () => {
    expect(lockProblem('dev', lockOf('dev', [DATABASE]), [DATABASE, CHURN], path.resolve('config'))).toBe(
      'dev: stateful resources not pinned yet: Data/RepositoriesModelchurnABCD1234 (AWS::ECR::Repository); run npm run pin',
    );
  });

  test('names a pinned resource that is gone and the command that drops it on purpose', () => {
    const problem = lockProblem('prod', lockOf('prod', [DATABASE, CHURN]), [DATABASE], path.resolve('config'));
    expect(problem).toMatch(/^prod: pinned stateful resources would be deleted or replaced by a new, empty one: Data\/RepositoriesModelchurnABCD1234 \(AWS::ECR::Repository\)\./);
    expect(problem).toContain('run npm run pin -- --drop RepositoriesModelchurnABCD1234 --reason "<why>"');
    expect(problem).not.toContain('\n');
  });

  test('names the config folder in the command when it is not the repository one', () => {
    expect(lockProblem('dev', undefined, [DATABASE], elsewhere)).toMatch(/run npm run pin -- --config \S*config$/);
  });

  test('rejects a lock that is not one, in one line', () => {
    const { lockDir } = repository({});
    fs.mkdirSync(lockDir);
    fs.writeFileSync(lockFile(lockDir, 'dev'), JSON.stringify({ environment: 'prod', resources: [], dropped: [] }));
    expect(() => readLock(lockDir, 'dev')).toThrow(/dev\.json: not a lock of environment "dev"/);
    fs.writeFileSync(lockFile(lockDir, 'dev'), '{');
    expect(() => readLock(lockDir, 'dev')).toThrow(/dev\.json: not valid JSON .*; restore it from version control$/);
  });
});

describe('npm run pin', () => {
  test('writes a lock per environment with its stateful resources, sorted by stack and ID', () => {
    const { configDir, lockDir } = twoEnvironments();
    const network = resource('Network', 'VpcLogsKey', 'AWS::KMS::Key');
    const { status, out } = pin(['--config', configDir], { dev: [CHURN, DATABASE, network], prod: [DATABASE] });
    expect(status).toBe(0);
    expect(readLock(lockDir, 'dev')).toEqual(lockOf('dev', [network, DATABASE, CHURN]));
    expect(readLock(lockDir, 'prod')).toEqual(lockOf('prod', [DATABASE]));
    expect(out).toEqual([expect.stringMatching(/dev\.json: new lock, 3 stateful resources pinned$/), expect.stringMatching(/prod\.json: new lock, 1 stateful resources pinned$/)]);
  });

  test('pins a new stateful resource and keeps the others', () => {
    const { configDir, lockDir } = twoEnvironments();
    pin(['--config', configDir], { dev: [DATABASE], prod: [DATABASE] });
    const prodLock = fs.readFileSync(lockFile(lockDir, 'prod'), 'utf8');
    const { status, out } = pin(['--config', configDir], { dev: [DATABASE, CHURN], prod: [DATABASE] });
    expect(status).toBe(0);
    expect(readLock(lockDir, 'dev')?.resources).toEqual([DATABASE, CHURN]);
    expect(fs.readFileSync(lockFile(lockDir, 'prod'), 'utf8')).toBe(prodLock);
    expect(out[0]).toMatch(/dev\.json: pinned Data\/RepositoriesModelchurnABCD1234 \(AWS::ECR::Repository\)$/);
  });

  test('refuses to drop a pinned resource that is gone, names the command, and writes nothing', () => {
    const { configDir, lockDir } = twoEnvironments();
    pin(['--config', configDir], { dev: [DATABASE, CHURN], prod: [DATABASE, CHURN] });
    const before = ['dev', 'prod'].map((name) => fs.readFileSync(lockFile(lockDir, name), 'utf8'));
    const { status, err } = pin(['--config', configDir], { dev: [DATABASE, CHURN, TAGGER], prod: [DATABASE] });
    expect(status).toBe(1);
    expect(err).toEqual([
      expect.stringMatching(/^pin: prod: refusing to drop pinned stateful resources that are no longer synthesized: Data\/RepositoriesModelchurnABCD1234 \(AWS::ECR::Repository\)\. .*run npm run pin -- --config \S+ --drop RepositoriesModelchurnABCD1234 --reason "<why>"$/),
      'pin: nothing was written',
    ]);
    expect(['dev', 'prod'].map((name) => fs.readFileSync(lockFile(lockDir, name), 'utf8'))).toEqual(before);
  });

  test('drops a resource only where it is gone when told which and why, and records the reason', () => {
    const { configDir, lockDir } = twoEnvironments();
    pin(['--config', configDir], { dev: [DATABASE, CHURN], prod: [DATABASE, CHURN] });
    const reason = 'churn is served from dev only; its prod images are not needed';
    const { status, out } = pin(['--config', configDir, '--drop', CHURN.logicalId, '--reason', reason], { dev: [DATABASE, CHURN], prod: [DATABASE] });
    expect(status).toBe(0);
    expect(readLock(lockDir, 'prod')).toEqual(lockOf('prod', [DATABASE], [{ ...CHURN, reason }]));
    expect(readLock(lockDir, 'dev')).toEqual(lockOf('dev', [DATABASE, CHURN]));
    expect(out).toContainEqual(expect.stringMatching(new RegExp(`prod\\.json: dropped Data/RepositoriesModelchurnABCD1234 \\(AWS::ECR::Repository\\) \\(${reason}\\)$`)));
  });

  test('pins a dropped resource again when it comes back', () => {
    const { configDir, lockDir } = twoEnvironments();
    pin(['--config', configDir], { dev: [DATABASE, CHURN], prod: [DATABASE] });
    pin(['--config', configDir, '--drop', CHURN.logicalId, '--reason', 'churn retired from dev for now'], { dev: [DATABASE], prod: [DATABASE] });
    pin(['--config', configDir], { dev: [DATABASE, CHURN], prod: [DATABASE] });
    expect(readLock(lockDir, 'dev')).toEqual(lockOf('dev', [DATABASE, CHURN]));
  });

  test.each([
    [['--drop', 'X'], /^pin: --drop needs --reason "<why>"/],
    [['--drop', 'X', '--reason', 'gone'], /^pin: --drop needs --reason "<why>": .*at least 10 characters/],
    [['--reason', 'because it is no longer needed'], /^pin: --reason is recorded only with --drop <logical ID>$/],
    [['--force'], /^pin: unknown argument --force; allowed: --config <folder>, --drop <logical ID> \(repeatable\), --reason "<why>"$/],
    [['--config'], /^pin: --config needs a value$/],
  ])('refuses %j in one line with status 2', (argv, message) => {
    const { status, err } = pin(argv, {});
    expect({ status, err }).toEqual({ status: 2, err: [expect.stringMatching(message)] });
  });

  test('refuses to drop a resource that no lock is losing', () => {
    const { configDir } = twoEnvironments();
    pin(['--config', configDir], { dev: [DATABASE], prod: [DATABASE] });
    const { status, err } = pin(['--config', configDir, '--drop', DATABASE.logicalId, '--reason', 'the database is no longer needed'], { dev: [DATABASE], prod: [DATABASE] });
    expect(status).toBe(1);
    expect(err[0]).toMatch(/^pin: --drop MlflowDatabaseInstance2F7DD6DC: no environment pins it without synthesizing it/);
  });

  test('refuses a lock whose environment has no config file, saying when to delete it', () => {
    const { configDir, lockDir } = twoEnvironments();
    fs.mkdirSync(lockDir);
    fs.writeFileSync(lockFile(lockDir, 'qa'), formatLock(lockOf('qa', [DATABASE])));
    const { status, err } = pin(['--config', configDir], { dev: [DATABASE], prod: [DATABASE] });
    expect(status).toBe(1);
    expect(err).toEqual([expect.stringMatching(/^pin: \S*locks\/qa\.json pins an environment with no config file; delete it once that environment's stacks are destroyed/)]);
  });

  test('stops on a bad config with the loader\'s message', () => {
    const { configDir } = repository({ dev: { ...ENVIRONMENT, natGateways: 1 } });
    const { status, err } = pin(['--config', configDir], {});
    expect(status).toBe(1);
    expect(err.join('\n')).toMatch(/dev\.yaml: unknown field "natGateways"/);
  });
});

describe('removing a model on purpose, with the real synth', () => {
  // The workflow of docs/runbooks/stateful-resources.md: pin, remove the model from config, see
  // pin refuse, drop the model's repository with a reason, and the lock agrees with the synth.
  test('pin refuses until the repository is dropped with a reason, then the lock matches the synthesized stacks', () => {
    const { configDir, lockDir } = repository({ sandbox: ENVIRONMENT });
    const quiet = () => {
      jest.spyOn(console, 'log').mockImplementation(() => undefined);
      return jest.spyOn(console, 'error').mockImplementation(() => undefined);
    };
    const errors = quiet();
    expect(main(['--config', configDir])).toBe(0);
    const pinned = readLock(lockDir, 'sandbox')?.resources ?? [];
    const churnRepository = pinned.find((entry) => entry.logicalId.startsWith('RepositoriesModelchurn'));
    expect(churnRepository).toMatchObject({ stack: 'Data', type: 'AWS::ECR::Repository' });
    expect(pinned).toContainEqual(expect.objectContaining({ stack: 'Data', type: 'AWS::RDS::DBInstance' }));

    fs.writeFileSync(path.join(configDir, 'sandbox.yaml'), stringify({ ...ENVIRONMENT, teams: [{ ...ENVIRONMENT.teams[0], models: [] }] }));
    expect(main(['--config', configDir])).toBe(1);
    expect(String(errors.mock.calls[0][0])).toContain(`--drop ${churnRepository?.logicalId} --reason "<why>"`);

    expect(main(['--config', configDir, '--drop', churnRepository?.logicalId ?? '', '--reason', 'churn is retired; its images are kept in the registry'])).toBe(0);
    jest.restoreAllMocks();
    const lock = readLock(lockDir, 'sandbox');
    expect(lock?.dropped).toEqual([{ ...churnRepository, reason: 'churn is retired; its images are kept in the registry' }]);
    expect(lock?.resources).toEqual(pinned.filter((entry) => entry !== churnRepository));
  });
});

describe('retiring a version, with the real synth', () => {
  test('needs no drop once the canary is promoted: versions share their model\'s stateful resources', () => {
    const canary = { ...MINIMAL_VERSION, name: 'v2', alias: undefined, version: 2, imageTag: '2.0.0' };
    const withVersions = (versions: Record<string, unknown>[]) => ({ ...ENVIRONMENT, teams: [{ ...ENVIRONMENT.teams[0], models: [{ ...MINIMAL_MODEL, versions }] }] });
    const { configDir, lockDir } = repository({ sandbox: withVersions([MINIMAL_VERSION, canary]) });
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(main(['--config', configDir])).toBe(0);
    const pinned = readLock(lockDir, 'sandbox');

    fs.writeFileSync(path.join(configDir, 'sandbox.yaml'), stringify(withVersions([canary])));
    const status = main(['--config', configDir]);
    const problems = errors.mock.calls.map((call) => String(call[0]));
    jest.restoreAllMocks();
    expect({ status, problems }).toEqual({ status: 0, problems: [] });
    expect(readLock(lockDir, 'sandbox')).toEqual(pinned);
  });
});
