import { createHash } from 'node:crypto';
import { Chart, JsonPatch } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { MLFLOW_NAMESPACE } from '../lib/config/platform-names';
import { PodIdentityServiceAccount } from './lib/http-workload';
import { MLFLOW_IN_CLUSTER_URL } from './lib/mlflow-credentials-init';
import { awsApiEgress, tcpPort } from './lib/network-rules';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext, scratchVolume } from './lib/workload-hardening';
import { MLFLOW_PORT, MLFLOW_SERVER_LABELS } from './mlflow-chart';

/** Service account of the user sync Job; its Pod Identity role reads the admin secret and the teams' secrets. */
export const MLFLOW_USER_SYNC_SERVICE_ACCOUNT = 'mlflow-user-sync';

/** Labels of the user sync Job's pods, which the server's ingress policy admits. */
export const MLFLOW_USER_SYNC_LABELS = { 'app.kubernetes.io/name': 'mlflow', 'app.kubernetes.io/component': 'user-sync' };

/** How long the sync waits for the server, which itself may wait up to 10 minutes for its migration. */
export const MLFLOW_USER_SYNC_SERVER_WAIT_SECONDS = 1200;

/** Longest run of the sync Job: the wait for the server and the sync itself. */
export const MLFLOW_USER_SYNC_DEADLINE_SECONDS = 1800;

/** The MLflow user of `team`'s jobs. The `team-` prefix is reserved: the sync disables such users of teams it is not told about. */
export function mlflowTeamUser(team: string): string {
  return `team-${team}`;
}

/** One team's MLflow account, as the sync Job is told about it. */
export interface MlflowTeamAccount {
  /** Team name; its user is `team-<team>` and its experiments are those named `<team>/…`. */
  readonly team: string;
  /** ARN of the team's login secret, `{"username": "team-<team>", "password": …}`. */
  readonly secretArn: string;
  /** Registered models the team's config serves, on which its user gets MANAGE. */
  readonly registeredModels: string[];
}

/** Properties of a {@link MlflowUserSyncChart}. */
export interface MlflowUserSyncChartProps {
  /** The MLflow image, whose entrypoint has the `sync-users` command. */
  readonly image: string;
  /**
   * Turns deploy-time values (CDK tokens) into what they stand for, so that the Job's name, a hash
   * of its rendered spec, changes exactly when the spec does.
   * @default - values are hashed as they are
   */
  readonly resolve?: (value: unknown) => unknown;
  /** AWS region of the secrets. */
  readonly region: string;
  /** ARN of the MLflow admin's secret, the login the sync works as. */
  readonly adminSecretArn: string;
  /** Every team of the environment; users of teams not listed are disabled. */
  readonly teams: MlflowTeamAccount[];
  /** CIDRs where the pods reach AWS APIs over HTTPS: the interface endpoints' subnets, or 0.0.0.0/0 where they go through NAT. */
  readonly awsApiCidrs: string[];
}

/**
 * Keeps MLflow's team users in step with the config: a Job (`entrypoint.py sync-users`) that, as
 * the MLflow admin, creates or updates one user per team with the password from the team's secret
 * and MANAGE on the team's experiments and registered models, and disables the users of teams no
 * longer listed; plus the NetworkPolicies that let it reach the server and AWS.
 */
export class MlflowUserSyncChart extends Chart {
  constructor(scope: Construct, id: string, props: MlflowUserSyncChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const namespace = MLFLOW_NAMESPACE;
    const labels = MLFLOW_USER_SYNC_LABELS;

    new PodIdentityServiceAccount(this, 'ServiceAccount', { name: MLFLOW_USER_SYNC_SERVICE_ACCOUNT, namespace });

    const scratch = scratchVolume('64Mi');
    const teams = props.teams.map((account) => ({ team: account.team, secretId: account.secretArn, registeredModels: account.registeredModels }));
    const env = {
      AWS_REGION: props.region,
      AWS_DEFAULT_REGION: props.region,
      MLFLOW_TRACKING_URI: MLFLOW_IN_CLUSTER_URL,
      MLFLOW_ADMIN_SECRET_ID: props.adminSecretArn,
      MLFLOW_TEAMS: JSON.stringify(teams),
      MLFLOW_SERVER_WAIT_SECONDS: String(MLFLOW_USER_SYNC_SERVER_WAIT_SECONDS),
    };
    const job = new k8s.KubeJob(this, 'Job', {
      metadata: { name: 'mlflow-sync-users', namespace, labels },
      spec: {
        backoffLimit: 4,
        activeDeadlineSeconds: MLFLOW_USER_SYNC_DEADLINE_SECONDS,
        // No TTL: the finished Job stays until the next change of the team list replaces (prunes)
        // it, so its log shows what the last sync did and it can be copied to sync again by hand.
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: MLFLOW_USER_SYNC_SERVICE_ACCOUNT,
            automountServiceAccountToken: false,
            restartPolicy: 'Never',
            securityContext: restrictedPodSecurityContext(),
            containers: [
              {
                name: 'sync-users',
                image: props.image,
                args: ['sync-users'],
                env: Object.entries(env).map(([name, value]) => ({ name, value })),
                resources: {
                  requests: { cpu: k8s.Quantity.fromString('100m'), memory: k8s.Quantity.fromString('256Mi') },
                  limits: { cpu: k8s.Quantity.fromString('500m'), memory: k8s.Quantity.fromString('512Mi') },
                },
                securityContext: restrictedContainerSecurityContext(),
                volumeMounts: [scratch.mount],
              },
            ],
            volumes: [scratch.volume],
          },
        },
      },
    });
    // As the migration Job: a finished Job is not run again and its pod template is immutable, so a
    // new name for every change of the rendered spec (a team added or removed, a model, the image)
    // runs the sync again, and an unchanged spec keeps the name.
    const resolve = props.resolve ?? ((value: unknown) => value);
    const revision = createHash('sha256').update(JSON.stringify(resolve(job.toJson().spec))).digest('hex').slice(0, 12);
    job.addJsonPatch(JsonPatch.replace('/metadata/name', `mlflow-sync-users-${revision}`));

    new k8s.KubeNetworkPolicy(this, 'AllowEgress', {
      metadata: { name: 'mlflow-user-sync-egress', namespace },
      spec: {
        podSelector: { matchLabels: labels },
        policyTypes: ['Egress'],
        egress: [{ to: [{ podSelector: { matchLabels: MLFLOW_SERVER_LABELS } }], ports: [tcpPort(MLFLOW_PORT)] }, ...awsApiEgress(props.awsApiCidrs)],
      },
    });

    new k8s.KubeNetworkPolicy(this, 'AllowServerIngress', {
      metadata: { name: 'mlflow-server-ingress-from-user-sync', namespace },
      spec: {
        podSelector: { matchLabels: MLFLOW_SERVER_LABELS },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: { matchLabels: labels } }], ports: [tcpPort(MLFLOW_PORT)] }],
      },
    });
  }
}
