import { Acknowledgment, App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { AwsSolutionsChecks } from 'cdk-nag';
// cdk-nag names a finding on a token by this function's rendering; acknowledgments must match it exactly.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';

/**
 * Registers the policy packs every synth runs: cdk-nag's AWS Solutions rules and the
 * CloudFormation Guard rules of Control Tower's proactive controls. Findings fail the synth
 * unless acknowledged on the resource with a reason.
 */
export function addPolicyPacks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new CfnGuardValidator());
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
