import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import {
  acknowledgeManagedPolicies,
  acknowledgeWildcardResource,
  addPolicyPacks,
  EMPTY_STACK_RULE,
  LAMBDA_PLACEMENT_CHECKED_BY_TESTS,
} from '../../lib/compliance';
import { cdkJsonContext, committedEnvironments, CONFIG_DIR, STACK_IDS, TESTING_REPOSITORY_CONFIG } from '../helpers/app';
import { runApp } from '../helpers/run-app';
import { scratchFolder } from '../helpers/scratch';

interface PluginReport {
  pluginName: string;
  conclusion: string;
  violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[];
  suppressedViolations?: unknown[];
}

/** Output folders of this file's synths, removed at the end: the app's holds every staged asset. */
const outdirs: string[] = [];
afterAll(() => {
  for (const outdir of outdirs) {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});

function newOutdir(): string {
  const outdir = fs.mkdtempSync(path.join(scratchFolder(), 'cdk-out-'));
  outdirs.push(outdir);
  return outdir;
}

function validationReport(outdir: string): PluginReport[] {
  return JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')).pluginReports;
}

/**
 * The app as `cdk synth` runs it: bin/mlops-platform.ts with cdk.json's context, built-in
 * validation on, every policy pack, assets staged. One run, which the app test below shares.
 */
const APP_OUTDIR = newOutdir();
// The app's own default folder unless the suite is pointed at another (MLOPS_CONFIG_DIR).
const appRun = runApp({ ...cdkJsonContext(), ...(TESTING_REPOSITORY_CONFIG ? {} : { configDir: CONFIG_DIR }) }, APP_OUTDIR);

/** Synthesizes like `cdk synth`: cdk.json's context, built-in validation on, every policy pack. */
function synthesizeLikeTheCli(build: (app: App) => void): {
  report: PluginReport[];
  error?: Error;
  app: App;
  assembly?: CloudAssembly;
} {
  const outdir = newOutdir();
  const app = new App({ context: cdkJsonContext(), outdir });
  addPolicyPacks(app);
  build(app);
  let error: Error | undefined;
  let assembly: CloudAssembly | undefined;
  try {
    assembly = app.synth();
  } catch (caught) {
    error = caught as Error;
  }
  return { report: validationReport(outdir), error, app, assembly };
}

function acknowledgments(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
      .map(([id, reason]) => ({ path: construct.node.path, id, reason })),
  );
}

describe('every environment, synthesized as `cdk synth` does', () => {
  const report = validationReport(APP_OUTDIR);
  const { synthError: error, assembly } = appRun;
  // The app the entry point built; acknowledgments are read from its constructs.
  const app = appRun.app as App;
  const pluginNamed = (name: string) => report.find((plugin) => plugin.pluginName === name);

  test('synthesizes without a validation error', () => {
    expect(error).toBeUndefined();
  });

  test.each(['CloudFormation Validate', 'cdk-validator-cfnguard'])('%s reports no unacknowledged finding', (name) => {
    expect(pluginNamed(name)).toMatchObject({ conclusion: 'success', violations: [] });
  });

  test('cdk-nag AWS Solutions reports no unacknowledged finding', () => {
    expect(pluginNamed('AwsSolutions')?.violations ?? []).toEqual([]);
  });

  test('no construct carries a warning, which `cdk synth --strict` would turn into an error', () => {
    const stacks = assembly?.stacksRecursively ?? [];
    const environments = committedEnvironments();
    const accounts = new Set(environments.map((config) => config.account));
    // The fixed stacks of every stage, one stack per model, and one CI identity stack per account.
    const models = environments.flatMap((config) => config.teams.flatMap((team) => team.models));
    expect(stacks).toHaveLength(STACK_IDS.length * environments.length + models.length + accounts.size);
    const warnings = stacks.flatMap((stack) =>
      stack.messages.filter((message) => message.level !== 'info').map((message) => `${message.id}: ${String(message.entry.data)}`),
    );
    expect(warnings).toEqual([]);
  });

  test('every acknowledgment names a rule and states why it does not apply', () => {
    const found = acknowledgments(app);
    expect(found.length).toBeGreaterThan(0);
    for (const acknowledgment of found) {
      expect(acknowledgment.reason.length).toBeGreaterThan(40);
    }
  });

  test('only development environments acknowledge lowered protection, and Multi-AZ only where config turns it off', () => {
    const lowered = /RDS10|deletion_protection|backup_enabled|retention_period/;
    const singleZone = /RDS3|multi_az/;
    for (const config of committedEnvironments()) {
      const ids = acknowledgments(app.node.findChild(config.name)).map((acknowledgment) => acknowledgment.id);
      expect({ name: config.name, lowered: ids.some((id) => lowered.test(id)) }).toEqual({
        name: config.name,
        lowered: config.environmentType === 'development',
      });
      expect({ name: config.name, singleZone: ids.some((id) => singleZone.test(id)) }).toEqual({
        name: config.name,
        singleZone: !config.database.multiAz,
      });
    }
  });

  test('acknowledgments sit on resources, never on a whole stage or stack, but for the one cfn-guard cannot place and empty stacks', () => {
    const appWide = acknowledgments(app).filter((acknowledgment) => acknowledgment.path === '');
    expect(appWide.map((acknowledgment) => acknowledgment.id)).toEqual([LAMBDA_PLACEMENT_CHECKED_BY_TESTS.id]);
    // An environment with no team and no GPU pool has empty Serving and Monitoring stacks, acknowledged as such (lib/compliance.ts).
    const onResources = acknowledgments(app).filter((candidate) => candidate.path !== '' && candidate.id !== EMPTY_STACK_RULE);
    for (const acknowledgment of onResources) {
      expect(acknowledgment.path.split('/').length).toBeGreaterThan(2);
    }
  });

  test('every Lambda function runs in the VPC or is a CDK-managed provider (the check cfn-guard cannot make)', () => {
    const templates = (assembly?.stacksRecursively ?? []).map((stack) => stack.template);
    expect(templates.flatMap(lambdasOutsideTheVpc)).toEqual([]);
  });
});

/** The CDK's singleton custom resource providers, which only call AWS APIs during deployment. */
const CDK_PROVIDER = /^Custom[A-Za-z0-9]+CustomResourceProviderHandler[0-9A-F]{8}$/;

/** Logical IDs of Lambda functions with no subnets or no security groups, other than CDK providers. */
function lambdasOutsideTheVpc(template: { Resources: Record<string, { Type: string; Properties?: { VpcConfig?: { SubnetIds?: unknown[]; SecurityGroupIds?: unknown[] } } }> }): string[] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .filter(([, resource]) => !(resource.Properties?.VpcConfig?.SubnetIds?.length && resource.Properties.VpcConfig.SecurityGroupIds?.length))
    .map(([logicalId]) => logicalId)
    .filter((logicalId) => !CDK_PROVIDER.test(logicalId));
}

describe('the Lambda placement check', () => {
  test('reports a function outside the VPC', () => {
    const template = {
      Resources: {
        Careless: { Type: 'AWS::Lambda::Function', Properties: {} },
        Placed: { Type: 'AWS::Lambda::Function', Properties: { VpcConfig: { SubnetIds: ['subnet-1'], SecurityGroupIds: ['sg-1'] } } },
        CustomVpcRestrictDefaultSGCustomResourceProviderHandlerDC833E5E: { Type: 'AWS::Lambda::Function', Properties: {} },
      },
    };
    expect(lambdasOutsideTheVpc(template)).toEqual(['Careless']);
  });
});

describe('the app', () => {
  test('synthesizes one stage per config file', () => {
    expect({ status: appRun.status, stderr: appRun.stderr }).toEqual({ status: 0, stderr: '' });
    const files = fs.readdirSync(CONFIG_DIR).filter((file) => file.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    const manifest = JSON.parse(fs.readFileSync(path.join(APP_OUTDIR, 'manifest.json'), 'utf8'));
    expect(Object.keys(manifest.artifacts)).toEqual(expect.arrayContaining(files.map((file) => `assembly-${path.basename(file, '.yaml')}`)));
  });
});

describe('the policy packs', () => {
  test('fail the synth on an unencrypted, unlogged, public-capable bucket', () => {
    const { report, error } = synthesizeLikeTheCli((app) => {
      new s3.CfnBucket(new Stack(app, 'Careless'), 'Bucket', {});
    });
    expect(error?.message).toMatch(/AwsSolutions-S1/);
    const rules = report.flatMap((plugin) => plugin.violations.map((violation) => violation.ruleName));
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10', 's3_bucket_default_encryption_kms_check']));
  });

  describe('acknowledgments of findings on deploy-time values', () => {
    const REASON = 'A test role whose managed policies and wildcard resource are acknowledged on purpose.';
    /** cdk-nag's IAM findings on a role with an AWS-managed policy (an Fn::Join) and a wildcard under a bucket ARN (a GetAtt). */
    const iamFindings = (acknowledge: boolean) => {
      const { report } = synthesizeLikeTheCli((app) => {
        const stack = new Stack(app, 'Acknowledged');
        const bucket = new s3.CfnBucket(stack, 'Bucket');
        const role = new iam.Role(stack, 'Role', {
          assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
          managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEC2ContainerRegistryPullOnly')],
        });
        const wildcard = `${bucket.attrArn}/*`;
        role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [wildcard] }));
        if (acknowledge) {
          acknowledgeManagedPolicies(role, REASON);
          acknowledgeWildcardResource(role, wildcard, REASON);
        }
      });
      const nag = report.find((plugin) => plugin.pluginName === 'AwsSolutions');
      return (nag?.violations ?? []).map((violation) => violation.ruleName).filter((rule) => /IAM[45]/.test(rule));
    };

    test('cdk-nag names the findings by the flattened deploy-time values when nothing acknowledges them', () => {
      expect(iamFindings(false).sort()).toEqual([
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly]',
        'AwsSolutions-IAM5[Resource::<Bucket.Arn>/*]',
      ]);
    });

    test('acknowledgeManagedPolicies and acknowledgeWildcardResource name the findings exactly as cdk-nag does', () => {
      expect(iamFindings(true)).toEqual([]);
    });
  });
});
