import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseSynthArguments, synthSummary } from '../../scripts/synth';
import { scratchFolder } from '../helpers/scratch';

describe('parseSynthArguments', () => {
  let configDir: string;
  beforeEach(() => {
    configDir = fs.mkdtempSync(path.join(scratchFolder(), 'synth-config-'));
    for (const name of ['dev', 'prod', 'staging']) {
      fs.writeFileSync(path.join(configDir, `${name}.yaml`), '');
    }
  });
  afterEach(() => {
    fs.rmSync(configDir, { recursive: true, force: true });
  });

  test('no argument synthesizes every environment with the cache on', () => {
    expect(parseSynthArguments([], configDir)).toEqual({ environments: [], cache: true });
  });

  test('names select environments, --no-cache turns the cache off and --config names another folder', () => {
    expect(parseSynthArguments(['prod', '--no-cache', 'dev', '--config', configDir], '/nowhere')).toEqual({
      environments: ['prod', 'dev'],
      cache: false,
      configDir,
    });
  });

  test('an unknown environment is refused in one line naming the ones there are', () => {
    expect(parseSynthArguments(['prd'], configDir)).toBe(`npm run synth: no environment named "prd"; ${path.relative(process.cwd(), configDir)}/ has dev, prod, staging`);
  });

  test('an unknown option, or --config without a folder, is refused in one line with the usage', () => {
    expect(parseSynthArguments(['--strict'], configDir)).toMatch(/^npm run synth: unknown option --strict; usage: npm run synth/);
    expect(parseSynthArguments(['--config'], configDir)).toMatch(/^npm run synth: --config needs a folder; usage: npm run synth/);
  });
});

describe('synthSummary', () => {
  let outdir: string;
  beforeEach(() => {
    outdir = fs.mkdtempSync(path.join(scratchFolder(), 'synth-summary-'));
  });
  afterEach(() => {
    fs.rmSync(outdir, { recursive: true, force: true });
  });

  const write = (file: string, content: unknown) => {
    fs.mkdirSync(path.dirname(path.join(outdir, file)), { recursive: true });
    fs.writeFileSync(path.join(outdir, file), JSON.stringify(content));
  };
  const stack = { type: 'aws:cloudformation:stack' };

  test('counts environments and stacks, nested ones included, and states each checker result', () => {
    write('manifest.json', {
      artifacts: {
        'CiIdentity-111111111111': stack,
        'assembly-prod': { type: 'cdk:cloud-assembly', properties: { directoryName: 'assembly-prod' } },
        'assembly-dev': { type: 'cdk:cloud-assembly', properties: { directoryName: 'assembly-dev' } },
      },
    });
    write('assembly-prod/manifest.json', { artifacts: { prodNetwork: stack, prodData: stack } });
    write('assembly-dev/manifest.json', { artifacts: { devNetwork: stack } });
    write('validation-report.json', {
      pluginReports: [
        {
          pluginName: 'CloudFormation Validate',
          conclusion: 'success',
          metadata: { templates: '4', reusedFromCache: '3' },
          violations: [],
          suppressedViolations: [{}, {}],
        },
        { pluginName: 'cdk-validator-cfnguard', conclusion: 'failure', metadata: { templates: '4', reusedFromCache: '0' }, violations: [{}] },
      ],
    });

    expect(synthSummary(outdir, 6.04).split('\n')).toEqual([
      `Synthesized 2 environments (dev, prod): 4 stacks into ${path.basename(outdir)} in 6.0 s.`,
      '  CloudFormation Validate (aws-cdk-lib)  passed: 4 templates, 3 reused from the validation cache; 2 findings acknowledged',
      // A checker absent from the report ran and had nothing to report.
      '  cdk-nag AwsSolutions                   passed: 0 findings acknowledged',
      '  cfn-guard Control Tower rules          FAILED, 1 finding(s) above: 4 templates, 0 reused from the validation cache; 0 findings acknowledged',
    ]);
  });

  test('says so when the synth failed before writing an assembly', () => {
    expect(synthSummary(outdir, 1)).toBe('Synth failed before any template was written; see the error above.');
  });
});
