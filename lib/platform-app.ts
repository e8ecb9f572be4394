import { App } from 'aws-cdk-lib';
import { ciAccounts } from './config/derived';
import { EnvironmentConfig } from './config/schema';
import { PlatformStage } from './platform-stage';
import { CiIdentityStack } from './stacks/ci-identity-stack';

/** What the app builds from validated config, so that the app and the tests build the same. */
export interface PlatformAppOptions {
  /** Every environment's validated config. */
  readonly environments: EnvironmentConfig[];
  /** Qualifier of the CDK bootstrap stacks. @default 'hnb659fds' */
  readonly bootstrapQualifier?: string;
}

/** One stage per environment, and one CiIdentity stack per account that GitHub Actions deploys to. */
export function buildPlatform(app: App, options: PlatformAppOptions): void {
  for (const config of options.environments) {
    new PlatformStage(app, config.name, { config });
  }
  for (const { account, environments } of ciAccounts(options.environments)) {
    new CiIdentityStack(app, `CiIdentity-${account}`, {
      env: { account, region: environments[0].region },
      environments,
      bootstrapQualifier: options.bootstrapQualifier,
      description: `GitHub Actions OIDC provider and deploy roles for account ${account}`,
    });
  }
}
