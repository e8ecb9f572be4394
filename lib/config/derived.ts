import { RemovalPolicy } from 'aws-cdk-lib';
import { EnvironmentConfig } from './schema';

/** Stateful resources survive stack deletion in production; development cleans up after itself. */
export function statefulRemovalPolicy(config: EnvironmentConfig): RemovalPolicy {
  return config.environmentType === 'production' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}

/** The database keeps a final snapshot in production; development drops it. */
export function databaseRemovalPolicy(config: EnvironmentConfig): RemovalPolicy {
  return config.environmentType === 'production' ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY;
}

/** `<namePrefix>-<environment>-<suffix>`: physical names that stay unique when environments share an account. */
export function physicalName(config: EnvironmentConfig, suffix: string): string {
  return `${config.namePrefix}-${config.name}-${suffix}`;
}

/** `<namePrefix>/<environment>`: the path prefix of secrets, repositories and log groups. */
export function namePath(config: EnvironmentConfig): string {
  return `${config.namePrefix}/${config.name}`;
}

/** Who may reach the shared load balancer: the configured CIDRs, or else the VPC itself. */
export function ingressInboundCidrs(config: EnvironmentConfig): string[] {
  return config.ingress.inboundCidrs ?? [config.network.vpcCidr];
}
