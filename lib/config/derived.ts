import { RemovalPolicy } from 'aws-cdk-lib';
import type { DriftModelArtifactSettings, DriftSettings, EnvironmentConfig } from './schema';

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

/** The EKS cluster's name, which its Container Insights metrics carry as ClusterName. */
export function clusterName(config: EnvironmentConfig): string {
  return physicalName(config, 'cluster');
}

/** `<namePrefix>/<environment>`: the path prefix of secrets, repositories and log groups. */
export function namePath(config: EnvironmentConfig): string {
  return `${config.namePrefix}/${config.name}`;
}

/** Who may reach the shared load balancer: the configured CIDRs, or else the VPC itself. */
export function ingressInboundCidrs(config: EnvironmentConfig): string[] {
  return config.ingress.inboundCidrs ?? [config.network.vpcCidr];
}

/** The host name clients call a model at: its own, or `<model>.<ingress.servingDomain>`. */
export function modelHostname(
  settings: { ingress: { servingDomain?: string } },
  model: { name: string; exposure: { hostname?: string } },
): string {
  return model.exposure.hostname ?? `${model.name}.${settings.ingress.servingDomain}`;
}

/** Every host name the shared load balancer serves: MLflow's, then each model's, in config order. */
export function servedHostnames(config: EnvironmentConfig): string[] {
  return [config.mlflow.hostname, ...config.teams.flatMap((team) => team.models.map((model) => modelHostname(config, model)))];
}

/** Every model of every team, by name (unique in an environment). */
export function modelNames(config: EnvironmentConfig): string[] {
  return config.teams.flatMap((team) => team.models.map((model) => model.name));
}

/**
 * Scoring processes per pod: as configured, else one per whole CPU of the limit; GPU models get
 * one, since every process loads its own copy of the model into GPU memory.
 */
export function modelWorkers(model: { workers?: number; gpu?: unknown; resources: { cpuLimitMillicores: number } }): number {
  return model.workers ?? (model.gpu ? 1 : Math.max(1, Math.floor(model.resources.cpuLimitMillicores / 1000)));
}

/** Models of any team that admit calls from `namespace`, with the namespace they run in. */
export function modelsCallableFrom(config: EnvironmentConfig, namespace: string): { namespace: string; model: string }[] {
  return config.teams.flatMap((team) =>
    team.models
      .filter((model) => model.exposure.allowedNamespaces.includes(namespace))
      .map((model) => ({ namespace: team.name, model: model.name })),
  );
}

/** Name of the role GitHub Actions assumes to deploy this environment. */
export function ciDeployRoleName(config: EnvironmentConfig): string {
  return physicalName(config, 'github-deploy');
}

/** Name of the read-only role GitHub Actions assumes to diff this environment on pull requests. */
export function ciDiffRoleName(config: EnvironmentConfig): string {
  return physicalName(config, 'github-diff');
}

/**
 * The GitHub environment whose jobs alone may assume this environment's diff role: in production
 * environments its required reviewers approve each pull request's diff, since the pull request's own
 * code runs with the role; none in development environments, which any pull request may diff.
 */
export function ciDiffEnvironment(config: EnvironmentConfig): string | undefined {
  return config.environmentType === 'production' ? `${config.name}-diff` : undefined;
}

/** An environment that GitHub Actions deploys. */
export type CiEnvironment = EnvironmentConfig & { readonly ci: NonNullable<EnvironmentConfig['ci']> };

/** The environments with CI identities, grouped by the account whose CiIdentity stack holds them. */
export function ciAccounts(environments: readonly EnvironmentConfig[]): { account: string; environments: CiEnvironment[] }[] {
  const accounts = new Map<string, CiEnvironment[]>();
  for (const config of environments.filter((candidate): candidate is CiEnvironment => candidate.ci !== undefined)) {
    accounts.set(config.account, [...(accounts.get(config.account) ?? []), config]);
  }
  return [...accounts].map(([account, members]) => ({ account, environments: members }));
}

/** What a workflow needs to reach one environment: where it is and which roles to assume. */
export interface CiTarget {
  /** AWS account ID. */
  readonly account: string;
  /** AWS region. */
  readonly region: string;
  /** ARN of the role the deploy job assumes. */
  readonly deployRoleArn: string;
  /** ARN of the read-only role the pull request diff assumes. */
  readonly diffRoleArn: string;
  /** GitHub environment the diff job must run in; null where any pull request may diff. */
  readonly diffEnvironment: string | null;
}

/** Per environment that GitHub Actions deploys, its account, region and role ARNs, keyed by name. */
export function ciTargets(environments: readonly EnvironmentConfig[]): Record<string, CiTarget> {
  const roleArn = (config: EnvironmentConfig, name: string) => `arn:${partitionOf(config.region)}:iam::${config.account}:role/${name}`;
  return Object.fromEntries(
    ciAccounts(environments)
      .flatMap((group) => group.environments)
      .map((config) => [
        config.name,
        {
          account: config.account,
          region: config.region,
          deployRoleArn: roleArn(config, ciDeployRoleName(config)),
          diffRoleArn: roleArn(config, ciDiffRoleName(config)),
          diffEnvironment: ciDiffEnvironment(config) ?? null,
        },
      ]),
  );
}

/** The AWS partition a region belongs to. */
function partitionOf(region: string): string {
  if (region.startsWith('cn-')) {
    return 'aws-cn';
  }
  return region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
}

/** A model's drift reference as its job takes it: the S3 folder, or the run artifact with the registered model whose alias finds it. */
export function driftReference(
  registeredModel: string,
  reference: DriftSettings['reference'],
): string | (DriftModelArtifactSettings & { readonly registeredModel: string }) {
  return typeof reference === 'string' ? reference : { registeredModel, ...reference };
}
