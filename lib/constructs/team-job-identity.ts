import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { MlflowTeamAccounts } from './mlflow-team-accounts';
import { PodIdentityRole } from './pod-identity-role';

/** Service account a team's jobs run as, unless a job names its own. */
export const TEAM_JOBS_SERVICE_ACCOUNT = 'team-jobs';

/** Properties of a {@link TeamJobIdentity}. */
export interface TeamJobIdentityProps {
  /** Cluster the jobs run on. */
  readonly cluster: eks.ICluster;
  /** Team, whose namespace the jobs run in. */
  readonly team: string;
  /** The teams' MLflow accounts, which hold this team's login secret. */
  readonly accounts: MlflowTeamAccounts;
  /** Service account of the jobs, in the team's namespace; the chart that runs them creates it. @default TEAM_JOBS_SERVICE_ACCOUNT */
  readonly serviceAccount?: string;
}

/**
 * The AWS identity of a team's jobs (batch inference, training): a Pod Identity role for one
 * service account in the team's namespace that may read that team's MLflow login secret and no
 * other, which the credentials init step (charts/lib/mlflow-credentials-init.ts) uses. Grant the
 * role what the jobs need besides. The chart that runs the jobs must create the service account
 * and its manifest must depend on this construct.
 */
export class TeamJobIdentity extends Construct {
  /** The role; add the jobs' own permissions to it. */
  public readonly role: iam.Role;
  /** Service account the jobs must run as. */
  public readonly serviceAccount: string;
  /** ARN of the team's MLflow login secret, for the credentials init step. */
  public readonly mlflowSecretArn: string;
  private readonly identity: PodIdentityRole;

  constructor(scope: Construct, id: string, props: TeamJobIdentityProps) {
    super(scope, id);
    this.serviceAccount = props.serviceAccount ?? TEAM_JOBS_SERVICE_ACCOUNT;
    const secret = props.accounts.secretOf(props.team);
    this.mlflowSecretArn = secret.secretArn;

    this.identity = new PodIdentityRole(this, 'Role', {
      cluster: props.cluster,
      namespace: props.team,
      serviceAccount: this.serviceAccount,
      description: `Jobs of team ${props.team}: its MLflow login secret`,
    });
    this.identity.grantSecretsRead([secret], props.accounts.key);
    this.role = this.identity.role;
  }

  /** Lets the jobs list and read the files of one S3 folder and nothing else of its bucket ({@link PodIdentityRole.grantFolderRead}). */
  public grantFolderRead(folder: string, kmsKeyArn?: string): void {
    this.identity.grantFolderRead(folder, kmsKeyArn);
  }

  /** Lets the jobs publish CloudWatch metrics to `namespace` and no other ({@link PodIdentityRole.grantMetricPublishing}). */
  public grantMetricPublishing(namespace: string): void {
    this.identity.grantMetricPublishing(namespace);
  }
}
