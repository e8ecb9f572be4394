import { Stage, StageProps, Tags } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EnvironmentConfig } from './config/schema';
import { DataStack } from './stacks/data-stack';
import { NetworkStack } from './stacks/network-stack';

/** Properties of a {@link PlatformStage}. */
export interface PlatformStageProps extends StageProps {
  /** The environment's validated config. */
  readonly config: EnvironmentConfig;
}

/** One environment of the platform, deployable on its own as `<environment>/*`. */
export class PlatformStage extends Stage {
  /** VPC of the environment. */
  public readonly network: NetworkStack;
  /** Database, artifact bucket and image repositories of the environment. */
  public readonly data: DataStack;

  constructor(scope: Construct, id: string, props: PlatformStageProps) {
    const { config } = props;
    super(scope, id, { ...props, env: { account: config.account, region: config.region } });

    Tags.of(this).add('platform', 'mlops-platform');
    Tags.of(this).add('environment', config.name);
    for (const [key, value] of Object.entries(config.tags)) {
      Tags.of(this).add(key, value);
    }

    this.network = new NetworkStack(this, 'Network', {
      config,
      description: `MLOps platform ${config.name}: VPC, subnets, endpoints and flow logs`,
      terminationProtection: config.environmentType === 'production',
    });
    this.data = new DataStack(this, 'Data', {
      config,
      vpc: this.network.vpc,
      description: `MLOps platform ${config.name}: MLflow database, artifact bucket and image repositories`,
      terminationProtection: config.environmentType === 'production',
    });
  }
}
