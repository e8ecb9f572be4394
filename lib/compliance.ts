import { Acknowledgment, App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CachedCfnGuardValidator } from './validation/cached-cfn-guard-validator';
import { CachedCloudFormationValidatePlugin } from './validation/cached-cloudformation-validate-plugin';

export interface PolicyPackOptions {
  /**
   * Folder where the template checkers keep each template's findings, or false to validate every template anew.
   * @default DEFAULT_VALIDATION_CACHE_DIRECTORY
   */
  readonly validationCache?: string | false;
}

/**
 * Registers the checkers every synth runs: aws-cdk-lib's built-in CloudFormation validator, cdk-nag's AWS
 * Solutions rules and the CloudFormation Guard rules of Control Tower's proactive controls. Findings fail the
 * synth unless acknowledged on the resource with a reason.
 *
 * The built-in validator and cfn-guard, which take nearly all of a synth's time, remember their findings per
 * template (lib/validation/validation-cache.ts); cdk-nag reads the construct tree, not the templates, and runs
 * every time.
 */
export function addPolicyPacks(app: App, options: PolicyPackOptions = {}): void {
  const cacheDirectory = options.validationCache;
  const cfnGuard = new CachedCfnGuardValidator({ cacheDirectory });
  // aws-cdk-lib runs the checkers in this order, one at a time; cfn-guard starts with the first, in the background.
  Validations.of(app).addPlugins(
    new CachedCloudFormationValidatePlugin({ cacheDirectory, alongside: [cfnGuard] }),
    new AwsSolutionsChecks(app),
    cfnGuard,
  );
  Validations.of(app).acknowledge(LAMBDA_PLACEMENT_CHECKED_BY_TESTS);
}

/**
 * The one app-wide acknowledgment. cfn-guard's CT.LAMBDA.PR.3 accepts only literal or same-stack
 * subnet and security group ids, so it cannot see that the kubectl Lambdas sit in the VPC (their
 * subnets come from the network stack, their security group from the cluster), and it reports
 * that finding without a resource, which nothing narrower than the app can acknowledge.
 * test/lib/compliance.test.ts checks every Lambda function's placement instead.
 */
export const LAMBDA_PLACEMENT_CHECKED_BY_TESTS: Acknowledgment = {
  id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
  reason:
    'cfn-guard cannot follow cross-stack subnet references and reports this finding without a resource; the compliance test checks that every Lambda runs in the VPC or is a CDK-managed provider that reaches no VPC resource.',
};

/** The built-in validator's finding on a template without resources. */
export const EMPTY_STACK_RULE = 'CloudFormation-Validate::F0001';

/**
 * Acknowledges, on `stack` and only while it holds no resource, that its template has none. A stack that composes
 * per-team or per-pool parts is empty in a new environment; the CDK CLI deploys an empty stack as nothing, or
 * deletes the stack it deployed before, so the validator's objection does not apply. Call it after the stack is built.
 */
export function acknowledgeEmptyStack(stack: Stack): void {
  if (!stack.node.findAll().some(CfnResource.isCfnResource)) {
    Validations.of(stack).acknowledge({
      id: EMPTY_STACK_RULE,
      reason: 'Nothing is configured for this stack yet; the CDK CLI skips an empty stack, or deletes the one deployed before.',
    });
  }
}

/**
 * Acknowledges the AWS-managed policies attached to `role` (cdk-nag IAM4), one finding each, so
 * that a managed policy added later is still reported.
 */
export function acknowledgeManagedPolicies(role: iam.IRole, reason: string): void {
  const cfnRole = role.node.defaultChild as iam.CfnRole;
  const stack = Stack.of(cfnRole);
  const arns: unknown[] = stack.resolve(cfnRole.managedPolicyArns) ?? [];
  Validations.of(role).acknowledge(
    ...arns.map((arn) => ({ id: `AwsSolutions::AwsSolutions-IAM4[Policy::${flattenCfnReference(stack.resolve(arn))}]`, reason })),
  );
}

/** Acknowledges one wildcard resource (cdk-nag IAM5) in the policies under `scope`, named as cdk-nag renders it. */
export function acknowledgeWildcardResource(scope: Construct, resource: string, reason: string): void {
  const rendered = flattenCfnReference(Stack.of(scope).resolve(resource));
  Validations.of(scope).acknowledge({ id: `AwsSolutions::AwsSolutions-IAM5[Resource::${rendered}]`, reason });
}

/**
 * A resolved CloudFormation value as cdk-nag renders it in a finding's name (`Ref` as `<Id>`,
 * `Fn::GetAtt` as `<Id.Attr>`, `Fn::Join` joined, `${…}` of `Fn::Sub` as `<…>`), so that an
 * acknowledgment names exactly the finding. cdk-nag does not export its own function;
 * test/lib/compliance.test.ts checks this one against cdk-nag's findings.
 */
function flattenCfnReference(value: unknown): string {
  if (value === undefined) {
    return '';
  }
  if (typeof value === 'string') {
    return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  }
  if (typeof value !== 'object' || value === null) {
    return JSON.stringify(value);
  }
  const node = value as Record<string, unknown>;
  if (node['Fn::Join']) {
    const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
    return items.map(flattenCfnReference).join(delimiter);
  }
  if (node['Fn::Sub']) {
    return flattenCfnReference(node['Fn::Sub']);
  }
  if (node['Fn::GetAtt']) {
    const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
    return `<${flattenCfnReference(resource)}.${flattenCfnReference(attribute)}>`;
  }
  if (node['Fn::ImportValue']) {
    return flattenCfnReference(node['Fn::ImportValue']);
  }
  if (node.Ref) {
    return `<${flattenCfnReference(node.Ref)}>`;
  }
  return JSON.stringify(value);
}
