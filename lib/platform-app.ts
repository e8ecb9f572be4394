import { App } from 'aws-cdk-lib';
import { ciAccounts } from './config/derived';
import { EnvironmentConfig } from './config/schema';
import { PlatformStage } from './platform-stage';
import { CiIdentityStack } from './stacks/ci-identity-stack';

/** What the app builds from validated config, so that the app and the tests build the same. */
export interface PlatformAppOptions {
  /** Every environment's validated config. */
  readonly environments: EnvironmentConfig[];
  /** The environments to build, a subset of `environments`. @default every environment */
  readonly selected?: EnvironmentConfig[];
  /** Qualifier of the CDK bootstrap stacks. @default 'hnb659fds' */
  readonly bootstrapQualifier?: string;
}

/**
 * One stage per selected environment, and one CiIdentity stack per account that GitHub Actions deploys a selected
 * environment to. A CiIdentity stack always holds the roles of every environment in its account, selected or not,
 * so deploying it from a partial synth never deletes another environment's roles.
 */
export function buildPlatform(app: App, options: PlatformAppOptions): void {
  const selected = options.selected ?? options.environments;
  for (const config of selected) {
    new PlatformStage(app, config.name, { config });
  }
  const accounts = ciAccounts(options.environments).filter((group) => group.environments.some((config) => selected.includes(config)));
  for (const { account, environments } of accounts) {
    new CiIdentityStack(app, `CiIdentity-${account}`, {
      env: { account, region: environments[0].region },
      environments,
      bootstrapQualifier: options.bootstrapQualifier,
      description: `GitHub Actions OIDC provider and deploy roles for account ${account}`,
    });
  }
}
