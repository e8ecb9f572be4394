import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { EnvironmentConfig } from '../config/schema';

/** Properties of a {@link PlatformStack}. */
export interface PlatformStackProps extends StackProps {
  /** The environment's validated config. */
  readonly config: EnvironmentConfig;
}

/**
 * Base of every platform stack. Its zones come from config: the default asks AWS at synth
 * time (a context lookup), which would break offline synth and CI without credentials.
 */
export abstract class PlatformStack extends Stack {
  private readonly zones: string[];

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    this.zones = props.config.availabilityZones;
  }

  get availabilityZones(): string[] {
    return this.zones;
  }
}
