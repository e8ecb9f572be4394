/** The template checkers every synth runs (lib/compliance.ts registers them), by their plugin names. */
export const CHECKERS = [
  { name: 'CloudFormation Validate', label: 'CloudFormation Validate (aws-cdk-lib)' },
  { name: 'AwsSolutions', label: 'cdk-nag AwsSolutions' },
  { name: 'cdk-validator-cfnguard', label: 'cfn-guard Control Tower rules' },
] as const;
