import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { MLFLOW_USER_SYNC_SERVICE_ACCOUNT, mlflowTeamUser, MlflowUserSyncChart } from '../../charts/mlflow-user-sync-chart';
import { MLFLOW_NAMESPACE } from '../config/platform-names';
import { MlflowServer } from './mlflow-server';
import { PlatformCluster } from './platform-cluster';
import { PlatformManifest } from './platform-manifest';
import { PodIdentityRole } from './pod-identity-role';

/** A team as the accounts need it; a config team fits as it is. */
export interface MlflowTeam {
  /** Team name. */
  readonly name: string;
  /** The team's served models, whose registered models its user manages. */
  readonly models: readonly { readonly registeredModel: string }[];
}

/** Properties of {@link MlflowTeamAccounts}. */
export interface MlflowTeamAccountsProps {
  /** Cluster the server runs on. */
  readonly cluster: PlatformCluster;
  /** The tracking server: its image, admin secret, key and chart. */
  readonly server: MlflowServer;
  /** Path prefix of the server's secrets, e.g. `mlops/prod/mlflow`; team secrets go under `<prefix>/teams/`. */
  readonly secretNamePrefix: string;
  /** Every team of the environment. */
  readonly teams: readonly MlflowTeam[];
}

/**
 * One MLflow user per team for its jobs: a generated login secret per team
 * (`<prefix>/teams/<team>`, `{"username": "team-<team>", "password": …}`) under the MLflow key, and
 * the {@link MlflowUserSyncChart}, whose Job (with a Pod Identity role that reads only the admin
 * secret and these secrets) creates the users, keeps their passwords and grants in step and
 * disables those of removed teams. A team's jobs read their login through a {@link TeamJobIdentity}.
 */
export class MlflowTeamAccounts extends Construct {
  /** Key encrypting the team secrets: the MLflow server's. */
  public readonly key: kms.IKey;
  /** The manifest of the sync Job. */
  public readonly manifest: PlatformManifest;
  private readonly secrets = new Map<string, secretsmanager.Secret>();

  constructor(scope: Construct, id: string, props: MlflowTeamAccountsProps) {
    super(scope, id);
    const { server } = props;
    this.key = server.secrets.key;

    for (const team of props.teams) {
      const secret = new secretsmanager.Secret(this, `Team-${team.name}`, {
        secretName: `${props.secretNamePrefix}/teams/${team.name}`,
        description: `Login of the MLflow user of team ${team.name}, for its jobs; the user sync Job sets it in MLflow`,
        encryptionKey: this.key,
        // Not data: the sync sets the user's password from the secret on every run. Deleting it with
        // the team (CloudFormation deletes secrets without a recovery window) lets a team of the same
        // name be added again; a retained secret would block that name.
        removalPolicy: RemovalPolicy.DESTROY,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ username: mlflowTeamUser(team.name) }),
          generateStringKey: 'password',
          passwordLength: 32,
          excludePunctuation: true,
        },
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions::AwsSolutions-SMG4',
        reason:
          'Jobs read the login when they start and the sync Job sets it in MLflow, so unattended rotation would lock running jobs out; rotation is an operator step (docs/mlflow.md).',
      });
      this.secrets.set(team.name, secret);
    }

    const role = new PodIdentityRole(this, 'SyncRole', {
      cluster: props.cluster.cluster,
      namespace: MLFLOW_NAMESPACE,
      serviceAccount: MLFLOW_USER_SYNC_SERVICE_ACCOUNT,
      description: 'MLflow user sync: the admin secret and the team login secrets',
    });
    role.grantSecretsRead([server.secrets.admin, ...this.secrets.values()], this.key);

    const chart = new MlflowUserSyncChart(new cdk8s.App(), 'mlflow-user-sync', {
      image: server.image.imageUri,
      resolve: (value) => Stack.of(this).resolve(value),
      region: Stack.of(this).region,
      adminSecretArn: server.secrets.admin.secretArn,
      teams: props.teams.map((team) => ({
        team: team.name,
        secretArn: this.secretOf(team.name).secretArn,
        registeredModels: team.models.map((model) => model.registeredModel),
      })),
      awsApiCidrs: server.awsApiCidrs,
    });
    this.manifest = new PlatformManifest(this, 'Chart', { cluster: props.cluster, chart });
    // The namespace and the server come first; the pod gets credentials only if its association exists when it is admitted.
    this.manifest.node.addDependency(server.manifest, role);
  }

  /** The login secret of `team`'s MLflow user. */
  public secretOf(team: string): secretsmanager.ISecret {
    const secret = this.secrets.get(team);
    if (!secret) {
      throw new Error(`MlflowTeamAccounts: no team ${team}; known: ${[...this.secrets.keys()].join(', ') || 'none'}`);
    }
    return secret;
  }
}
