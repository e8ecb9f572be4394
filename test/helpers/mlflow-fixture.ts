import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ArtifactBucket } from '../../lib/constructs/artifact-bucket';
import { MlflowDatabase, MlflowDatabaseProps } from '../../lib/constructs/mlflow-database';
import { MlflowServer } from '../../lib/constructs/mlflow-server';
import { MlflowTeam, MlflowTeamAccounts } from '../../lib/constructs/mlflow-team-accounts';
import { PlatformCluster } from '../../lib/constructs/platform-cluster';
import { PlatformLoadBalancer } from '../../lib/constructs/platform-load-balancer';
import { loadBalancerSubnetCidrs } from '../../lib/constructs/platform-vpc';
import { clusterStack } from './cluster-fixture';

/** The interface endpoints' subnets the fixtures' pods reach AWS through. */
export const TEST_AWS_API_CIDRS = ['10.0.255.0/27', '10.0.255.32/27'];

/** A {@link clusterStack} with an MLflow server (`Mlflow`) and all it needs: database, artifact bucket and load balancer. */
export interface MlflowStack {
  readonly stack: Stack;
  readonly vpc: ec2.Vpc;
  readonly cluster: PlatformCluster;
  readonly server: MlflowServer;
}

/** The server's stack; `database` overrides the database's settings (e.g. its name). */
export function mlflowStack(database: Partial<MlflowDatabaseProps> = {}): MlflowStack {
  const { stack, vpc, cluster } = clusterStack();
  const server = new MlflowServer(stack, 'Mlflow', {
    cluster,
    database: new MlflowDatabase(stack, 'Database', { vpc, instanceIdentifier: 'test-mlflow', credentialsSecretName: 'test/mlflow/database', ...database }),
    artifacts: new ArtifactBucket(stack, 'Artifacts', {}),
    vpc,
    secretNamePrefix: 'test/mlflow',
    hostname: 'mlflow.example.internal',
    loadBalancer: new PlatformLoadBalancer(stack, 'LoadBalancer', { vpc, inboundCidrs: ['10.0.0.0/16'], deletionProtection: false }),
    loadBalancerSubnetCidrs: loadBalancerSubnetCidrs(vpc),
    awsApiCidrs: TEST_AWS_API_CIDRS,
  });
  return { stack, vpc, cluster, server };
}

/** The server's stack with the MLflow accounts (`TeamAccounts`) of `teams`. */
export function mlflowAccountsStack(teams: readonly MlflowTeam[]): MlflowStack & { readonly accounts: MlflowTeamAccounts } {
  const built = mlflowStack();
  const accounts = new MlflowTeamAccounts(built.stack, 'TeamAccounts', {
    cluster: built.cluster,
    server: built.server,
    secretNamePrefix: 'test/mlflow',
    teams,
  });
  return { ...built, accounts };
}
