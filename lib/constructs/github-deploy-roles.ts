import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** The OIDC issuer of GitHub Actions. */
export const GITHUB_OIDC_ISSUER = 'token.actions.githubusercontent.com';

/** Properties of {@link GithubDeployRoles}. */
export interface GithubDeployRolesProps {
  /** The account's GitHub OIDC provider. */
  readonly provider: iam.IOidcProvider;
  /** Repository as `owner/name`. */
  readonly repository: string;
  /** The GitHub environment (and CDK stage) the deploy role serves. */
  readonly environment: string;
  /** Region of the environment, hence of its CDK bootstrap roles. */
  readonly region: string;
  /** Name of the deploy role; the deploy workflow derives it from config. */
  readonly deployRoleName: string;
  /** Name of the read-only diff role. */
  readonly diffRoleName: string;
  /** GitHub environment whose jobs alone may assume the diff role. @default - any pull request of the repository */
  readonly diffEnvironment?: string;
  /** Qualifier of the CDK bootstrap stack. @default 'hnb659fds' */
  readonly bootstrapQualifier?: string;
}

/**
 * The two roles GitHub Actions assumes for one environment, by OIDC and without stored keys: a
 * deploy role only jobs of that GitHub environment get, which may only assume the environment's
 * CDK bootstrap roles (the CDK does the rest through them), and a diff role for pull requests,
 * which may only assume the read-only bootstrap lookup role. A pull request's own code runs with
 * the diff role, so where that matters the role trusts only jobs of a GitHub environment whose
 * reviewers approve each run, instead of every pull request.
 */
export class GithubDeployRoles extends Construct {
  /** Role of the environment's deploy job. */
  public readonly deployRole: iam.Role;
  /** Role of the pull request diff job. */
  public readonly diffRole: iam.Role;

  constructor(scope: Construct, id: string, props: GithubDeployRolesProps) {
    super(scope, id);
    const { account, partition } = Stack.of(this);
    const qualifier = props.bootstrapQualifier ?? 'hnb659fds';
    const bootstrapRole = (kind: string) => `arn:${partition}:iam::${account}:role/cdk-${qualifier}-${kind}-role-${account}-${props.region}`;
    const github = (subject: string) =>
      new iam.OpenIdConnectPrincipal(props.provider, {
        StringEquals: {
          [`${GITHUB_OIDC_ISSUER}:aud`]: 'sts.amazonaws.com',
          [`${GITHUB_OIDC_ISSUER}:sub`]: `repo:${props.repository}:${subject}`,
        },
      });

    this.deployRole = new iam.Role(this, 'DeployRole', {
      roleName: props.deployRoleName,
      description: `GitHub Actions deploy of ${props.environment} from ${props.repository}: only the ${props.environment} GitHub environment`,
      // The GitHub environment's protection rules (reviewers, branch) decide which job gets here.
      assumedBy: github(`environment:${props.environment}`),
      inlinePolicies: {
        bootstrapRoles: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: ['sts:AssumeRole'],
              resources: ['deploy', 'file-publishing', 'image-publishing', 'lookup'].map(bootstrapRole),
            }),
          ],
        }),
      },
    });

    this.diffRole = new iam.Role(this, 'DiffRole', {
      roleName: props.diffRoleName,
      description: props.diffEnvironment
        ? `GitHub Actions diff of ${props.environment} on pull requests of ${props.repository}: read-only, only the ${props.diffEnvironment} GitHub environment`
        : `GitHub Actions diff of ${props.environment} on pull requests of ${props.repository}: read-only`,
      // GitHub's subject claim names the environment whenever a job references one, the event otherwise.
      assumedBy: github(props.diffEnvironment ? `environment:${props.diffEnvironment}` : 'pull_request'),
      inlinePolicies: {
        lookupRole: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [bootstrapRole('lookup')] })],
        }),
      },
    });
  }
}
