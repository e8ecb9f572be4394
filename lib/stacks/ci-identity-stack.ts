import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { CiEnvironment, ciDeployRoleName, ciDiffEnvironment, ciDiffRoleName } from '../config/derived';
import { GITHUB_OIDC_ISSUER, GithubDeployRoles } from '../constructs/github-deploy-roles';

/** Properties of a {@link CiIdentityStack}. */
export interface CiIdentityStackProps extends StackProps {
  /** The account's environments that have a `ci` section. */
  readonly environments: CiEnvironment[];
  /** Qualifier of the CDK bootstrap stacks. @default 'hnb659fds' */
  readonly bootstrapQualifier?: string;
}

/**
 * What GitHub Actions needs in one account, deployed once by an administrator
 * (`npx cdk deploy CiIdentity-<account>`): the GitHub OIDC provider and, per environment, a
 * deploy role and a read-only diff role.
 */
export class CiIdentityStack extends Stack {
  constructor(scope: Construct, id: string, props: CiIdentityStackProps) {
    super(scope, id, props);
    const createProvider = props.environments.every((config) => config.ci.createOidcProvider);
    const provider = createProvider
      ? new iam.OidcProviderNative(this, 'GithubOidc', { url: `https://${GITHUB_OIDC_ISSUER}`, clientIds: ['sts.amazonaws.com'] })
      : iam.OidcProviderNative.fromOidcProviderArn(
          this,
          'GithubOidc',
          `arn:${this.partition}:iam::${this.account}:oidc-provider/${GITHUB_OIDC_ISSUER}`,
        );

    for (const config of props.environments) {
      const roles = new GithubDeployRoles(this, `Github-${config.name}`, {
        provider,
        repository: config.ci.githubRepository,
        environment: config.name,
        region: config.region,
        deployRoleName: ciDeployRoleName(config),
        diffRoleName: ciDiffRoleName(config),
        diffEnvironment: ciDiffEnvironment(config),
        bootstrapQualifier: props.bootstrapQualifier,
      });
      new CfnOutput(this, `${config.name}DeployRoleArn`, { value: roles.deployRole.roleArn });
      new CfnOutput(this, `${config.name}DiffRoleArn`, { value: roles.diffRole.roleArn });
    }
  }
}
