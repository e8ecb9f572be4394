import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { DEPLOY_TIME_VALUE } from '../helpers/applied-manifests';
import {
  Acknowledgment,
  CFN_LINT_FILE,
  CHECKOV_FILE,
  cfnLintFindings,
  checkovFindings,
  checkovParsingErrors,
  findingLine,
  findStacks,
  Finding,
  globMatches,
  helmChartFiles,
  inlineSuppressions,
  judge,
  kubernetesFiles,
  parseAcknowledgments,
  pinnedTools,
  unreadKubernetesResources,
  venvProblem,
} from '../../scripts/policy-check';
import { REPO_ROOT } from '../helpers/app';
import { scratchFolder } from '../helpers/scratch';

const POLICY_DIR = path.join(REPO_ROOT, 'scripts', 'policy');
const REASON = 'A reason long enough to say why this finding does not apply here.';

let tempDir: string;
beforeAll(() => {
  tempDir = fs.mkdtempSync(path.join(scratchFolder(), 'policy-check-test-'));
});
afterAll(() => fs.rmSync(tempDir, { recursive: true, force: true }));

function finding(overrides: Partial<Finding> = {}): Finding {
  return { tool: 'checkov', rule: 'CKV_AWS_18', stackName: 'dev-Data', resource: 'ArtifactsAccessLogs4D97777C', message: 'Ensure the S3 bucket has access logging enabled', ...overrides };
}


const CHART_HASH = 'dc874c4d2bc164e49369e09111ebc7cb5b0227784871d707f855b2d8d4745c7a';

/** An assembly folder holding one staged chart asset, as the CDK stages `chartAsset`. */
function assemblyWithChartAsset(): string {
  const assembly = fs.mkdtempSync(path.join(scratchFolder(), 'assembly-'));
  fs.mkdirSync(path.join(assembly, `asset.${CHART_HASH}`));
  fs.writeFileSync(path.join(assembly, `asset.${CHART_HASH}`, 'Chart.yaml'), 'name: keda\nversion: 2.20.2\n');
  return assembly;
}

describe('the committed acknowledgment files', () => {
  const files = [
    { file: CFN_LINT_FILE, tool: 'cfn-lint' as const },
    { file: CHECKOV_FILE, tool: 'checkov' as const },
  ];

  test.each(files)('$tool: every entry is valid and gives a reason', ({ file, tool }) => {
    const entries = parseAcknowledgments(fs.readFileSync(file, 'utf8'), tool, file);
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) {
      expect(entry.reason.trim().length).toBeGreaterThanOrEqual(40);
    }
  });

  test.each(files)('$tool: every entry is limited to named resources, not a whole rule', ({ file, tool }) => {
    const entries = parseAcknowledgments(fs.readFileSync(file, 'utf8'), tool, file);
    expect(entries.filter((entry) => !entry.resources?.length)).toEqual([]);
  });
});

describe('parsing an acknowledgment file', () => {
  const parseOne = (entry: Record<string, unknown>, tool: 'cfn-lint' | 'checkov' = 'checkov') =>
    parseAcknowledgments(JSON.stringify({ acknowledged: [entry] }), tool, 'checkov.yaml');

  test('accepts an entry with a rule, globs and a reason', () => {
    expect(parseOne({ rule: 'CKV_AWS_18', stacks: ['dev-*'], resources: ['Logs*'], reason: REASON })).toEqual([
      { rule: 'CKV_AWS_18', stacks: ['dev-*'], resources: ['Logs*'], reason: REASON },
    ]);
  });

  test('rejects an entry without a reason, naming it', () => {
    expect(() => parseOne({ rule: 'CKV_AWS_18' })).toThrow('checkov.yaml: acknowledged.0.reason');
  });

  test('rejects a reason too short to explain anything', () => {
    expect(() => parseOne({ rule: 'CKV_AWS_18', reason: 'not needed' })).toThrow(/reason: must say why/);
  });

  test("rejects another tool's rule ids and unknown fields", () => {
    expect(() => parseOne({ rule: 'W3005', reason: REASON }, 'checkov')).toThrow(/is not a checkov rule id/);
    expect(() => parseOne({ rule: 'CKV_AWS_18', reason: REASON }, 'cfn-lint')).toThrow(/is not a cfn-lint rule id/);
    expect(() => parseOne({ rule: 'CKV_AWS_18', reason: REASON, resource: ['x'] })).toThrow(/resource/);
  });

  test('reads YAML anchors, so one reason can serve two entries', () => {
    const text = `acknowledged:\n  - rule: CKV_K8S_15\n    resources: [a]\n    reason: &why ${REASON}\n  - rule: CKV_K8S_43\n    resources: [a]\n    reason: *why\n`;
    expect(parseAcknowledgments(text, 'checkov', 'x').map((entry) => entry.reason)).toEqual([REASON, REASON]);
  });
});

describe('globs', () => {
  test.each([
    ['dev-*', 'dev-Data', true],
    ['dev-*', 'staging-Data', false],
    ['Deployment/*/*', 'Deployment/fraud/fraud-scorer', true],
    ['ClusterKubectlProviderHandler*', 'ClusterKubectlProviderHandler27822AE4', true],
    ['MlflowDatabaseInstance*', 'XMlflowDatabaseInstance1', false],
    ["Engine version '17' *", "Engine version '17' for engine 'postgres' is deprecated", true],
    ['a.b', 'axb', false],
  ])('%s matches %s: %s', (glob, value, expected) => {
    expect(globMatches(glob, value)).toBe(expected);
  });
});

describe('judging findings', () => {
  const entry = (overrides: Partial<Acknowledgment>): Acknowledgment => ({ rule: 'CKV_AWS_18', reason: REASON, ...overrides });

  test('a finding matched by rule, stack and resource is acknowledged', () => {
    const verdict = judge([finding()], [entry({ stacks: ['dev-*'], resources: ['ArtifactsAccessLogs*'] })]);
    expect(verdict).toEqual({ unacknowledged: [], acknowledgedCount: 1, stale: [] });
  });

  test('a finding of another rule, stack, resource or message is not', () => {
    const findings = [
      finding({ rule: 'CKV_AWS_19' }),
      finding({ stackName: 'prod-Data' }),
      finding({ resource: 'ArtifactsBucket1' }),
      finding({ message: 'something else' }),
    ];
    const entries = [entry({ stacks: ['dev-*'], resources: ['ArtifactsAccessLogs*'], message: 'Ensure the S3 bucket*' })];
    expect(judge(findings, entries).unacknowledged).toEqual(findings);
  });

  test('an entry that matches nothing is stale', () => {
    const verdict = judge([], [entry({ resources: ['Gone*'] })]);
    expect(verdict.stale).toEqual([{ index: 0, entry: entry({ resources: ['Gone*'] }) }]);
  });

  test('a glob of a used entry that matches nothing is stale too', () => {
    const used = entry({ stacks: ['dev-Data', 'qa-Data'], resources: ['ArtifactsAccessLogs*'] });
    expect(judge([finding()], [used]).stale).toEqual([{ index: 0, entry: used, unused: 'stacks qa-Data' }]);
  });

  test('prints one line per finding', () => {
    expect(findingLine(finding({ message: 'Ensure\n  logging' }))).toBe('checkov CKV_AWS_18 dev-Data ArtifactsAccessLogs4D97777C: Ensure logging');
  });
});

describe('finding the templates of an assembly', () => {
  function writeJson(file: string, value: unknown) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(value));
  }

  test('follows the manifest into each stage assembly', () => {
    const assembly = path.join(tempDir, 'cdk.out');
    writeJson(path.join(assembly, 'manifest.json'), {
      artifacts: {
        'assembly-dev': { type: 'cdk:cloud-assembly', properties: { directoryName: 'assembly-dev', displayName: 'dev' } },
        'CiIdentity-111111111111': {
          type: 'aws:cloudformation:stack',
          environment: 'aws://111111111111/eu-west-1',
          properties: { templateFile: 'CiIdentity-111111111111.template.json' },
        },
        Tree: { type: 'cdk:tree', properties: { file: 'tree.json' } },
      },
    });
    writeJson(path.join(assembly, 'assembly-dev', 'manifest.json'), {
      artifacts: {
        'devData58C5D5B6.assets': { type: 'cdk:asset-manifest', properties: { file: 'devData58C5D5B6.assets.json' } },
        devData58C5D5B6: {
          type: 'aws:cloudformation:stack',
          environment: 'aws://111111111111/eu-west-1',
          properties: { templateFile: 'devData58C5D5B6.template.json', stackName: 'dev-Data' },
        },
        devServing1: {
          type: 'aws:cloudformation:stack',
          environment: 'aws://unknown-account/unknown-region',
          properties: { templateFile: 'devServing1.template.json', stackName: 'dev-Serving' },
        },
      },
    });

    expect(findStacks(assembly)).toEqual([
      { stackName: 'dev-Data', templateFile: path.join(assembly, 'assembly-dev', 'devData58C5D5B6.template.json'), region: 'eu-west-1' },
      { stackName: 'dev-Serving', templateFile: path.join(assembly, 'assembly-dev', 'devServing1.template.json'), region: undefined },
      { stackName: 'CiIdentity-111111111111', templateFile: path.join(assembly, 'CiIdentity-111111111111.template.json'), region: 'eu-west-1' },
    ]);
  });

  test('refuses a folder that is not an assembly', () => {
    expect(() => findStacks(path.join(tempDir, 'nothing'))).toThrow('is not a cloud assembly');
  });
});

describe('the Kubernetes objects checkov reads', () => {
  const stack = { stackName: 'dev-Mlflow', templateFile: 'unused' };
  const image = { 'Fn::Sub': '111111111111.dkr.ecr.eu-west-1.${AWS::URLSuffix}/assets:abc123${!Literal}' };
  const template = {
    Resources: {
      Chart: {
        Type: 'Custom::AWSCDK-EKS-KubernetesResource',
        Properties: {
          Manifest: {
            'Fn::Join': [
              '',
              [
                '[{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"mlflow"}},{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"mlflow","namespace":"mlflow"},"spec":{"template":{"spec":{"containers":[{"name":"server","image":"',
                image,
                '"}]}}}}]',
              ],
            ],
          },
        },
      },
    },
  };

  test('writes one file per object, named by stack and logical ID, and names each object Kind/namespace/name', () => {
    const files = kubernetesFiles(stack, template);
    expect(files.map(({ relativePath, stackName, resource }) => ({ relativePath, stackName, resource }))).toEqual([
      { relativePath: path.join('dev-Mlflow', 'Chart-1.yaml'), stackName: 'dev-Mlflow', resource: 'Namespace/mlflow' },
      { relativePath: path.join('dev-Mlflow', 'Chart-2.yaml'), stackName: 'dev-Mlflow', resource: 'Deployment/mlflow/mlflow' },
    ]);
  });

  test('writes out an Fn::Sub image so its tag survives, deploy-time values as placeholders', () => {
    const deployment = parse(kubernetesFiles(stack, template)[1].content);
    expect(deployment.spec.template.spec.containers[0].image).toBe(`111111111111.dkr.ecr.eu-west-1.${DEPLOY_TIME_VALUE}/assets:abc123\${Literal}`);
  });
});

describe("reading the tools' reports", () => {
  test('cfn-lint: the logical ID from the path, the stack from the file', () => {
    const output = [
      {
        Filename: '/out/assembly-dev/devData.template.json',
        Level: 'Warning',
        Location: { Path: ['Resources', 'MlflowDatabaseInstance2F7DD6DC', 'Properties'] },
        Message: "Engine version '17' for engine 'postgres' is deprecated",
        Rule: { Id: 'W3691' },
      },
      { Filename: '/out/assembly-dev/devData.template.json', Location: { Path: ['Outputs', 'Endpoint', 'Value'] }, Message: 'bad output', Rule: { Id: 'E6101' } },
    ];
    expect(cfnLintFindings(output, (file) => (file.endsWith('devData.template.json') ? 'dev-Data' : '?'))).toEqual([
      { tool: 'cfn-lint', rule: 'W3691', stackName: 'dev-Data', resource: 'MlflowDatabaseInstance2F7DD6DC', message: "Engine version '17' for engine 'postgres' is deprecated" },
      { tool: 'cfn-lint', rule: 'E6101', stackName: 'dev-Data', resource: 'Outputs/Endpoint/Value', message: 'bad output' },
    ]);
    expect(() => cfnLintFindings({ error: 'x' }, () => '')).toThrow('cfn-lint printed something other than a list');
  });

  test('checkov: failed checks of each framework, and skips written into a template count as findings', () => {
    const output = [
      {
        check_type: 'cloudformation',
        results: {
          failed_checks: [{ check_id: 'CKV_AWS_18', check_name: 'Ensure logging', resource: 'AWS::S3::Bucket.ArtifactsAccessLogs4D97777C', file_abs_path: '/out/dev.json' }],
          skipped_checks: [{ check_id: 'CKV_AWS_21', check_name: 'Ensure versioning', resource: 'AWS::S3::Bucket.Bucket1', file_abs_path: '/out/dev.json' }],
        },
        summary: { parsing_errors: 0, resource_count: 2 },
      },
      // --quiet leaves out empty lists.
      { check_type: 'kubernetes', results: { failed_checks: [{ check_id: 'CKV_K8S_15', check_name: 'Pull Always', resource: 'Deployment.fraud.fraud-scorer', file_abs_path: '/k8s/a.yaml' }] }, summary: { parsing_errors: 1 } },
    ];
    const sourceOf = (file: string) => (file === '/k8s/a.yaml' ? { stackName: 'dev-Serving', resource: 'Deployment/fraud/fraud-scorer' } : { stackName: 'dev-Data' });

    const findings = checkovFindings(output, sourceOf);
    expect(findings.map(({ rule, stackName, resource }) => `${rule} ${stackName} ${resource}`)).toEqual([
      'CKV_AWS_18 dev-Data ArtifactsAccessLogs4D97777C',
      'CKV_AWS_21 dev-Data Bucket1',
      'CKV_K8S_15 dev-Serving Deployment/fraud/fraud-scorer',
    ]);
    expect(findings[1].message).toMatch(/^skipped inside the template or object/);
    expect(checkovParsingErrors(output)).toBe(1);
  });

  test('checkov: a single framework prints one report, and no files prints a bare summary', () => {
    const single = { check_type: 'kubernetes', results: { failed_checks: [] }, summary: { parsing_errors: 0 } };
    expect(checkovFindings(single, () => ({ stackName: 's' }))).toEqual([]);
    expect(checkovFindings({ passed: 0, failed: 0 }, () => ({ stackName: 's' }))).toEqual([]);
  });

  test('suppressions written into a template are found, so they cannot bypass the files', () => {
    const template = {
      Metadata: { 'cfn-lint': { config: { ignore_checks: ['W3005'] } } },
      Resources: { Fn: { Type: 'AWS::Lambda::Function', Metadata: { checkov: { skip: [{ id: 'CKV_AWS_116' }] } } }, Ok: { Type: 'AWS::S3::Bucket' } },
    };
    expect(inlineSuppressions(template)).toEqual(['template: Metadata.cfn-lint', 'Fn: Metadata.checkov']);
  });

  test('Kubernetes objects applied other than as manifests or chart assets are reported, since checkov would not see them', () => {
    const assembly = assemblyWithChartAsset();
    const template = {
      Resources: {
        Manifest: { Type: 'Custom::AWSCDK-EKS-KubernetesResource' },
        Vendored: { Type: 'Custom::AWSCDK-EKS-HelmChart', Properties: { ChartAssetURL: `s3://assets/${CHART_HASH}.zip` } },
        Chart: { Type: 'Custom::AWSCDK-EKS-HelmChart', Properties: { Chart: 'keda', Repository: 'https://example.com/charts' } },
        Patch: { Type: 'Custom::AWSCDK-EKS-KubernetesPatch' },
      },
    };
    expect(unreadKubernetesResources(template, assembly)).toEqual(['Chart (Custom::AWSCDK-EKS-HelmChart)', 'Patch (Custom::AWSCDK-EKS-KubernetesPatch)']);
  });

  test('a chart asset is rendered with the release, namespace and values of its resource, one file per object', () => {
    const assembly = assemblyWithChartAsset();
    // A stand-in for helm that prints its arguments as a ConfigMap and a second object; the real helm runs in `npm run test:policy`.
    const helm = path.join(assembly, 'helm');
    fs.writeFileSync(
      helm,
      '#!/bin/sh\nprintf "apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: args\\n  namespace: keda\\ndata:\\n  args: \\"%s\\"\\n---\\n# a comment\\n---\\napiVersion: v1\\nkind: ServiceAccount\\nmetadata:\\n  name: keda-operator\\n  namespace: keda\\n" "$*"\n',
      { mode: 0o755 },
    );
    const template = {
      Resources: {
        KedaChart: {
          Type: 'Custom::AWSCDK-EKS-HelmChart',
          Properties: { ChartAssetURL: `s3://assets/${CHART_HASH}.zip`, Release: 'keda', Namespace: 'keda', Values: '{"replicas":1}' },
        },
      },
    };

    const files = helmChartFiles({ stackName: 'dev-Cluster', templateFile: 'unused' }, template, assembly, helm);

    expect(files.map((file) => [file.relativePath, file.resource])).toEqual([
      [path.join('dev-Cluster', 'KedaChart-1.yaml'), 'ConfigMap/keda/args'],
      [path.join('dev-Cluster', 'KedaChart-2.yaml'), 'ServiceAccount/keda/keda-operator'],
    ]);
    expect(parse(files[0].content).data.args).toMatch(
      new RegExp(`^template keda ${path.join(assembly, `asset.${CHART_HASH}`)} --namespace keda --include-crds --values \\S+values\\.json$`),
    );
  });

  test('a chart whose values are only known at deploy time cannot be checked, and says so', () => {
    const assembly = assemblyWithChartAsset();
    const template = {
      Resources: {
        KedaChart: {
          Type: 'Custom::AWSCDK-EKS-HelmChart',
          Properties: { ChartAssetURL: `s3://assets/${CHART_HASH}.zip`, Release: 'keda', Values: { 'Fn::Join': ['', ['{"role":"', { Ref: 'Role' }, '"}']] } },
        },
      },
    };
    expect(() => helmChartFiles({ stackName: 'dev-Cluster', templateFile: 'unused' }, template, assembly, '/bin/false')).toThrow(
      'dev-Cluster KedaChart: its Helm values are only known at deploy time, so its objects cannot be checked',
    );
  });
});

describe('the pinned tools', () => {
  const requirementsIn = fs.readFileSync(path.join(POLICY_DIR, 'requirements.in'), 'utf8');
  const requirementsTxt = fs.readFileSync(path.join(POLICY_DIR, 'requirements.txt'), 'utf8');

  test('requirements.in pins cfn-lint and checkov exactly', () => {
    expect(pinnedTools(requirementsIn).map(({ name }) => name).sort()).toEqual(['cfn-lint', 'checkov']);
    expect(() => pinnedTools('checkov>=3\n')).toThrow('is not an exact name==version pin');
  });

  test('requirements.txt is compiled from it: the same versions, every package pinned with hashes', () => {
    const locked = [...requirementsTxt.matchAll(/^([A-Za-z0-9._-]+)==(\S+) \\\n((?: {4}--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)/gm)];
    const packages = requirementsTxt.split('\n').filter((line) => /^[A-Za-z0-9]/.test(line));
    expect(locked).toHaveLength(packages.length);
    for (const { name, version } of pinnedTools(requirementsIn)) {
      expect(packages).toContain(`${name}==${version} \\`);
    }
    expect(requirementsTxt.split('\n')[0]).toMatch(/^# .*regenerate.*pip-compile --generate-hashes/);
  });

  test('a missing virtual environment, or one with other versions, says how to build it', () => {
    const venv = path.join(tempDir, 'venv');
    const pins = [{ name: 'cfn-lint', version: '1.0.0' }];
    expect(venvProblem(venv, pins)).toMatch(/policy tools missing .*: run scripts\/setup-runtime\.sh$/);

    fs.mkdirSync(path.join(venv, 'bin'), { recursive: true });
    ['cfn-lint', 'checkov'].forEach((tool) => fs.writeFileSync(path.join(venv, 'bin', tool), ''));
    fs.mkdirSync(path.join(venv, 'lib', 'python3.11', 'site-packages', 'cfn_lint-0.9.0.dist-info'), { recursive: true });
    expect(venvProblem(venv, pins)).toMatch(/does not hold the pinned cfn-lint 1\.0\.0: run scripts\/setup-runtime\.sh$/);

    fs.mkdirSync(path.join(venv, 'lib', 'python3.11', 'site-packages', 'cfn_lint-1.0.0.dist-info'));
    expect(venvProblem(venv, pins)).toBeUndefined();
  });
});
