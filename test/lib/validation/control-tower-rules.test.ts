import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { ControlTowerRules, resourceTypesOf } from '../../../lib/validation/control-tower-rules';
import { scratchFolder } from '../../helpers/scratch';

describe('ControlTowerRules', () => {
  test('hands over the files naming a present type, and every file naming none', () => {
    const folder = fs.mkdtempSync(path.join(scratchFolder(), 'rules-'));
    fs.mkdirSync(path.join(folder, 's3'));
    fs.writeFileSync(path.join(folder, 's3', 'bucket.guard'), 'let S3_BUCKET_TYPE = "AWS::S3::Bucket"');
    fs.writeFileSync(path.join(folder, 's3', 'queue.guard'), "let SQS_QUEUE_TYPE = 'AWS::SQS::Queue'");
    fs.writeFileSync(path.join(folder, 'untyped.guard'), 'rule anything { Resources exists }');

    const files = new ControlTowerRules(folder).filesFor(new Set(['AWS::S3::Bucket', 'AWS::IAM::Role']));

    expect(files.map((file) => path.relative(folder, file))).toEqual([path.join('s3', 'bucket.guard'), 'untyped.guard']);
  });

  test('the files handed over for a template find exactly what every bundled rule finds', () => {
    // One resource of many services the rules cover, each left at its least compliant.
    const app = new App({ outdir: fs.mkdtempSync(path.join(scratchFolder(), 'rules-out-')) });
    const stack = new Stack(app, 'Mixed');
    const types = ['AWS::S3::Bucket', 'AWS::SQS::Queue', 'AWS::RDS::DBInstance', 'AWS::EC2::SecurityGroup', 'AWS::KMS::Key', 'AWS::ECR::Repository'];
    types.forEach((type, index) => new CfnResource(stack, `Resource${index}`, { type, properties: {} }));
    new CfnResource(stack, 'Function', { type: 'AWS::Lambda::Function', properties: { Runtime: 'python3.8' } });
    const templatePath = app.synth().getStackByName('Mixed').templateFullPath;
    const findings = (guard: CfnGuardValidator) =>
      guard
        .validate({ templatePaths: [templatePath], appConstruct: app })
        .violations.flatMap((violation) => violation.violatingResources.map((resource) => `${violation.ruleName} ${resource.resourceLogicalId}`))
        .sort();

    const everyRule = findings(new CfnGuardValidator());
    const handedOver = ControlTowerRules.bundled().filesFor(resourceTypesOf([templatePath]));

    expect(everyRule.length).toBeGreaterThan(10);
    expect(handedOver.length).toBeLessThan(ControlTowerRules.bundled().files.length / 2);
    expect(findings(new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: handedOver }))).toEqual(everyRule);
  });
});
