import { Acknowledgment, App, Stack, Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { AwsSolutionsChecks } from 'cdk-nag';

/**
 * Registers the policy packs every synth runs: cdk-nag's AWS Solutions rules and the
 * CloudFormation Guard rules of Control Tower's proactive controls. Findings fail the synth
 * unless acknowledged on the resource with a reason.
 */
export function addPolicyPacks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new CfnGuardValidator());
}

/**
 * Acknowledges findings on one of the CDK's own custom resource providers, which the CDK
 * creates once per stack outside the construct that asked for it.
 */
export function acknowledgeCdkProvider(scope: Construct, providerId: string, ...acknowledgments: Acknowledgment[]): void {
  const provider = Stack.of(scope).node.tryFindChild(providerId);
  if (provider) {
    Validations.of(provider).acknowledge(...acknowledgments);
  }
}

/** The reason every CDK-managed provider Lambda runs outside the VPC. */
export const CDK_PROVIDER_OUTSIDE_VPC: Acknowledgment = {
  id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
  reason:
    'CDK-managed custom resource provider that only calls AWS APIs during deployment; the CDK offers no VPC placement for it and it reaches no VPC resource.',
};
