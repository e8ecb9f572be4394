import { createHash } from 'node:crypto';
import { Chart, JsonPatch } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { MLFLOW_NAMESPACE } from '../lib/config/platform-names';
import { HTTP_PORT_NAME, HttpService, httpProbe, PodIdentityServiceAccount, SURGE_ONE_ROLLOUT } from './lib/http-workload';
import { awsApiEgress, tcpPort } from './lib/network-rules';
import { TargetGroupBinding } from './lib/target-group-binding';
import { PlatformNamespace, TENANT_LABEL } from './lib/platform-namespace';
import {
  oneAtATimeDisruptionBudget,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  scratchVolume,
  zoneAndNodeSpread,
} from './lib/workload-hardening';

/** Service account of the server pods; its Pod Identity role reads the app-user, Flask and admin secrets. */
export const MLFLOW_SERVER_SERVICE_ACCOUNT = 'mlflow-server';

/** Service account of the migration Job; only its Pod Identity role reads the database master secret. */
export const MLFLOW_MIGRATION_SERVICE_ACCOUNT = 'mlflow-migrate';

/** Port the server listens on inside the pod. */
export const MLFLOW_PORT = 5000;

/** How long a server pod waits for the migration Job to bring the schema to its image's head. */
export const MLFLOW_SCHEMA_WAIT_SECONDS = 600;

/** Longest run of the migration Job; a migration still waiting for the lock gives up before it. */
export const MLFLOW_MIGRATION_DEADLINE_SECONDS = 1800;

/** How long a migration waits for another one's lock: well inside the Job's deadline. */
export const MLFLOW_MIGRATION_LOCK_WAIT_SECONDS = 1500;

/** Labels of the tracking server's pods; tenant namespaces' egress policies name them. */
export const MLFLOW_SERVER_LABELS = { 'app.kubernetes.io/name': 'mlflow', 'app.kubernetes.io/component': 'tracking-server' };

/** Secrets Manager secrets the pods read at run time, by ARN; none of their values reaches a manifest. */
export interface MlflowSecrets {
  /** The RDS master secret, read only by the migration Job. */
  readonly databaseMasterSecretArn: string;
  /** The `mlflow_app` database user the server connects as. */
  readonly databaseAppSecretArn: string;
  /** The Flask session-signing key of the basic-auth app. */
  readonly flaskSecretKeyArn: string;
  /** The initial `admin` user of the basic-auth app. */
  readonly adminSecretArn: string;
}

/** Properties of an {@link MlflowChart}. */
export interface MlflowChartProps {
  /** Image URI of the server (built from images/mlflow). */
  readonly image: string;
  /**
   * Turns deploy-time values (CDK tokens) into what they stand for, so that the migration Job's
   * name, a hash of its rendered spec, changes exactly when the spec does.
   * @default - values are hashed as they are
   */
  readonly resolve?: (value: unknown) => unknown;
  /** AWS region of the secrets and the bucket. */
  readonly region: string;
  /** Database endpoint host name. */
  readonly databaseHost: string;
  /** Database port. */
  readonly databasePort: number;
  /** Database of MLflow's tracking data, the one RDS creates. */
  readonly databaseName: string;
  /** CIDRs of the database subnets, the only place the pods may reach on the database port. */
  readonly databaseSubnetCidrs: string[];
  /** Secrets the pods read at run time. */
  readonly secrets: MlflowSecrets;
  /** `s3://<bucket>/<prefix>` where the server stores artifacts on the clients' behalf. */
  readonly artifactsDestination: string;
  /** Host name users reach the server at. */
  readonly hostname: string;
  /** Server pods. @default 2 */
  readonly replicas?: number;
  /** Worker processes per pod. @default 2 */
  readonly workers?: number;
  /** CPU request per pod in millicores; the limit is twice this. @default 500 */
  readonly cpuMillicores?: number;
  /** Memory request and limit per pod in MiB. @default 2048 */
  readonly memoryMiB?: number;
  /** ARN of the load balancer target group the server's pods join (a CDK target group). */
  readonly targetGroupArn: string;
  /** CIDRs of the load balancer's own subnets, the only callers outside the cluster the pods admit. */
  readonly loadBalancerSubnetCidrs: string[];
  /** CIDRs where the pods reach AWS APIs over HTTPS: the interface endpoints' subnets, or 0.0.0.0/0 where they go through NAT. */
  readonly awsApiCidrs: string[];
}

/**
 * The MLflow tracking server: a hardened Deployment behind a Service and the platform's shared
 * load balancer, a migration Job that brings the database schema up before new pods serve, and
 * NetworkPolicies that admit only the load balancer and tenant namespaces.
 */
export class MlflowChart extends Chart {
  constructor(scope: Construct, id: string, props: MlflowChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const namespace = MLFLOW_NAMESPACE;
    const { databasePort } = props;
    const serverLabels = MLFLOW_SERVER_LABELS;
    const migrationLabels = { 'app.kubernetes.io/name': 'mlflow', 'app.kubernetes.io/component': 'migration' };

    new PlatformNamespace(this, 'Namespace', { name: namespace });

    for (const name of [MLFLOW_SERVER_SERVICE_ACCOUNT, MLFLOW_MIGRATION_SERVICE_ACCOUNT]) {
      new PodIdentityServiceAccount(this, name, { name, namespace });
    }

    const scratch = scratchVolume();
    const env = (values: Record<string, string>): k8s.EnvVar[] =>
      Object.entries(values).map(([name, value]) => ({ name, value }));
    const common = {
      AWS_REGION: props.region,
      AWS_DEFAULT_REGION: props.region,
      MLFLOW_DB_HOST: props.databaseHost,
      MLFLOW_DB_PORT: String(databasePort),
      MLFLOW_BACKEND_DB: props.databaseName,
      MLFLOW_AUTH_DB: 'mlflow_auth',
      MLFLOW_DB_APP_SECRET_ID: props.secrets.databaseAppSecretArn,
    };

    const migration = new k8s.KubeJob(this, 'Migration', {
      metadata: { name: 'mlflow-migrate', namespace, labels: migrationLabels },
      spec: {
        backoffLimit: 6,
        activeDeadlineSeconds: MLFLOW_MIGRATION_DEADLINE_SECONDS,
        ttlSecondsAfterFinished: 7 * 24 * 3600,
        template: {
          metadata: { labels: migrationLabels },
          spec: {
            serviceAccountName: MLFLOW_MIGRATION_SERVICE_ACCOUNT,
            automountServiceAccountToken: false,
            restartPolicy: 'Never',
            securityContext: restrictedPodSecurityContext(),
            containers: [
              {
                name: 'migrate',
                image: props.image,
                args: ['migrate'],
                env: env({
                  ...common,
                  MLFLOW_DB_MASTER_SECRET_ID: props.secrets.databaseMasterSecretArn,
                  MLFLOW_MIGRATION_LOCK_WAIT_SECONDS: String(MLFLOW_MIGRATION_LOCK_WAIT_SECONDS),
                }),
                resources: {
                  requests: { cpu: k8s.Quantity.fromString('250m'), memory: k8s.Quantity.fromString('512Mi') },
                  limits: { cpu: k8s.Quantity.fromString('1'), memory: k8s.Quantity.fromString('1Gi') },
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

    // A Job's pod template is immutable, and a finished Job is not run again: a new name for every
    // change of the rendered spec (image, environment, resources) runs the migration again, and an
    // unchanged spec keeps the name, so a redeploy neither fails on the update nor re-runs it.
    const resolve = props.resolve ?? ((value: unknown) => value);
    const revision = createHash('sha256').update(JSON.stringify(resolve(migration.toJson().spec))).digest('hex').slice(0, 12);
    migration.addJsonPatch(JsonPatch.replace('/metadata/name', `mlflow-migrate-${revision}`));

    const cpu = props.cpuMillicores ?? 500;
    const memory = k8s.Quantity.fromString(`${props.memoryMiB ?? 2048}Mi`);
    const allowedHosts = [props.hostname, `mlflow.${namespace}.svc.cluster.local`, `mlflow.${namespace}.svc`, `mlflow.${namespace}`];

    new k8s.KubeDeployment(this, 'Server', {
      metadata: { name: 'mlflow', namespace, labels: serverLabels },
      spec: {
        replicas: props.replicas ?? 2,
        selector: { matchLabels: serverLabels },
        strategy: SURGE_ONE_ROLLOUT,
        template: {
          metadata: { labels: serverLabels },
          spec: {
            serviceAccountName: MLFLOW_SERVER_SERVICE_ACCOUNT,
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurityContext(),
            topologySpreadConstraints: zoneAndNodeSpread(serverLabels),
            nodeSelector: { 'kubernetes.io/arch': 'amd64' },
            terminationGracePeriodSeconds: 30,
            containers: [
              {
                name: 'mlflow',
                image: props.image,
                args: ['serve'],
                ports: [{ name: HTTP_PORT_NAME, containerPort: MLFLOW_PORT, protocol: 'TCP' }],
                env: env({
                  ...common,
                  MLFLOW_FLASK_SECRET_ID: props.secrets.flaskSecretKeyArn,
                  MLFLOW_ADMIN_SECRET_ID: props.secrets.adminSecretArn,
                  MLFLOW_ARTIFACTS_DESTINATION: props.artifactsDestination,
                  MLFLOW_ALLOWED_HOSTS: allowedHosts.join(','),
                  MLFLOW_WORKERS: String(props.workers ?? 2),
                  MLFLOW_PORT: String(MLFLOW_PORT),
                  MLFLOW_SCHEMA_WAIT_SECONDS: String(MLFLOW_SCHEMA_WAIT_SECONDS),
                }),
                resources: {
                  requests: { cpu: k8s.Quantity.fromString(`${cpu}m`), memory },
                  limits: { cpu: k8s.Quantity.fromString(`${cpu * 2}m`), memory },
                },
                // The server waits for the migration Job before it listens; the probe gives it that
                // wait and a minute to start, so a pod is never killed while it still waits.
                startupProbe: httpProbe('/health', 10, Math.ceil((MLFLOW_SCHEMA_WAIT_SECONDS + 60) / 10)),
                readinessProbe: httpProbe('/health', 10, 3),
                livenessProbe: httpProbe('/health', 20, 3),
                securityContext: restrictedContainerSecurityContext(),
                volumeMounts: [scratch.mount],
              },
            ],
            volumes: [scratch.volume],
          },
        },
      },
    });

    oneAtATimeDisruptionBudget(this, 'DisruptionBudget', { name: 'mlflow', namespace, labels: serverLabels, matchLabels: serverLabels });

    new HttpService(this, 'Service', { name: 'mlflow', namespace, labels: serverLabels }, serverLabels);

    new TargetGroupBinding(this, 'TargetGroupBinding', {
      name: 'mlflow',
      namespace,
      labels: serverLabels,
      targetGroupArn: props.targetGroupArn,
      serviceName: 'mlflow',
      servicePort: 80,
    });

    new k8s.KubeNetworkPolicy(this, 'AllowServerIngress', {
      metadata: { name: 'mlflow-server-ingress', namespace },
      spec: {
        podSelector: { matchLabels: serverLabels },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              ...props.loadBalancerSubnetCidrs.map((cidr) => ({ ipBlock: { cidr } })),
              { namespaceSelector: { matchLabels: { [TENANT_LABEL]: 'true' } } },
            ],
            ports: [tcpPort(MLFLOW_PORT)],
          },
        ],
      },
    });

    new k8s.KubeNetworkPolicy(this, 'AllowEgress', {
      metadata: { name: 'mlflow-egress', namespace },
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          { to: props.databaseSubnetCidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [tcpPort(databasePort)] },
          // Secrets Manager and S3.
          ...awsApiEgress(props.awsApiCidrs),
        ],
      },
    });
  }
}
