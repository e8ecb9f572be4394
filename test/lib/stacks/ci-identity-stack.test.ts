import { Template } from 'aws-cdk-lib/assertions';
import { ciAccounts } from '../../../lib/config/derived';
import { CiIdentityStack } from '../../../lib/stacks/ci-identity-stack';
import { committedEnvironments, fixtureEnvironment, MINIMAL_ENVIRONMENT, testApp } from '../../helpers/app';
import { normalizedTemplate, snapshotTest } from '../../helpers/snapshot';

const ISSUER = 'token.actions.githubusercontent.com';

function templatesOf(environments = committedEnvironments()) {
  // Built-in validation is the compliance test's (test/lib/compliance.test.ts runs it on these stacks).
  const app = testApp();
  const stacks = ciAccounts(environments).map(({ account, environments: members }) => ({
    account,
    members,
    stack: new CiIdentityStack(app, `CiIdentity-${account}`, { env: { account, region: members[0].region }, environments: members }),
  }));
  return stacks.map(({ stack, ...rest }) => ({ ...rest, template: Template.fromStack(stack) }));
}

const roleNamed = (template: Template, name: string) =>
  Object.values(template.findResources('AWS::IAM::Role')).find((role) => role.Properties.RoleName === name)?.Properties;

describe('CiIdentity stacks', () => {
  const stacks = templatesOf();

  snapshotTest.each(stacks.map((stack) => [stack.account, stack] as const))('%s template matches the snapshot', (_account, { template }) => {
    expect(normalizedTemplate(template)).toMatchSnapshot();
  });

  test('exist once per account that holds a deployed environment', () => {
    expect(stacks.map((stack) => stack.account).sort()).toEqual([...new Set(committedEnvironments().map((config) => config.account))].sort());
  });

  test.each(stacks.map((stack) => [stack.account, stack] as const))('%s trusts GitHub Actions through its OIDC provider for sts only', (_account, { template }) => {
    template.resourceCountIs('AWS::IAM::OIDCProvider', 1);
    template.hasResourceProperties('AWS::IAM::OIDCProvider', { Url: `https://${ISSUER}`, ClientIdList: ['sts.amazonaws.com'] });
  });

  test.each(stacks.flatMap(({ template, members }) => members.map((config) => [config.name, template, config] as const)))(
    'the %s deploy role trusts only jobs of that GitHub environment in the configured repository, and may only assume its bootstrap roles',
    (name, template, config) => {
      const role = roleNamed(template, `${config.namePrefix}-${name}-github-deploy`);
      expect(role?.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRoleWithWebIdentity',
          Principal: { Federated: { Ref: expect.stringMatching(/^GithubOidc/) } },
          Condition: {
            StringEquals: {
              [`${ISSUER}:aud`]: 'sts.amazonaws.com',
              [`${ISSUER}:sub`]: `repo:${config.ci?.githubRepository}:environment:${name}`,
            },
          },
        },
      ]);
      expect(role?.Policies).toEqual([
        {
          PolicyName: 'bootstrapRoles',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Action: 'sts:AssumeRole',
                Resource: ['deploy', 'file-publishing', 'image-publishing', 'lookup'].map(
                  (kind) => `arn:aws:iam::${config.account}:role/cdk-hnb659fds-${kind}-role-${config.account}-${config.region}`,
                ),
              },
            ],
          },
        },
      ]);
      expect(role?.ManagedPolicyArns).toBeUndefined();
    },
  );

  test.each(stacks.flatMap(({ template, members }) => members.map((config) => [config.name, template, config] as const)))(
    'the %s diff role may only assume the read-only lookup role',
    (name, template, config) => {
      const role = roleNamed(template, `${config.namePrefix}-${name}-github-diff`);
      expect(role?.AssumeRolePolicyDocument.Statement).toHaveLength(1);
      expect(role?.Policies[0].PolicyDocument.Statement).toEqual([
        { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${config.account}:role/cdk-hnb659fds-lookup-role-${config.account}-${config.region}` },
      ]);
    },
  );

  const ci = { githubRepository: 'example-org/mlops-platform', createOidcProvider: true };
  // Only what the production rules require beyond the minimal environment.
  const PRODUCTION = {
    environmentType: 'production',
    mlflow: { ...MINIMAL_ENVIRONMENT.mlflow, replicas: 2 },
    ingress: { certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000' },
  };
  const diffTrust = (environmentType: 'development' | 'production') => {
    const config = fixtureEnvironment({ ...MINIMAL_ENVIRONMENT, ...(environmentType === 'production' ? PRODUCTION : {}), ci });
    const [{ template }] = templatesOf([config]);
    return roleNamed(template, 'mlops-sandbox-github-diff')?.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals;
  };

  test('a development diff role trusts every pull request of the repository', () => {
    expect(diffTrust('development')).toEqual({
      [`${ISSUER}:aud`]: 'sts.amazonaws.com',
      [`${ISSUER}:sub`]: 'repo:example-org/mlops-platform:pull_request',
    });
  });

  test('a production diff role trusts only jobs of its reviewed <env>-diff GitHub environment, no pull request as such', () => {
    expect(diffTrust('production')).toEqual({
      [`${ISSUER}:aud`]: 'sts.amazonaws.com',
      [`${ISSUER}:sub`]: 'repo:example-org/mlops-platform:environment:sandbox-diff',
    });
  });

  test('reuses an account\'s existing OIDC provider when config says one exists', () => {
    const sandbox = fixtureEnvironment({ ...MINIMAL_ENVIRONMENT, ci: { ...ci, createOidcProvider: false } });
    const [{ template }] = templatesOf([sandbox]);
    template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    expect(JSON.stringify(roleNamed(template, 'mlops-sandbox-github-deploy')?.AssumeRolePolicyDocument)).toContain(`oidc-provider/${ISSUER}`);
  });
});
