import { z } from 'zod';
import { SERVING_HEADROOM } from './capacity';
import { isCanonicalIpv4Cidr } from './cidr';
import { INTERFACE_ENDPOINTS, POD_API_ENDPOINTS, POD_HTTPS_EGRESS } from './endpoints';
import { closest } from './messages';
import { backupWindowMinutes, maintenanceWindowMinutes, MIN_WINDOW_MINUTES } from './rds-windows';
import { checkCrossFieldRules, checkModelRules } from './rules';

/** CloudWatch Logs accepts only these retention periods, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** PostgreSQL major versions offered; RDS applies minor versions within the pinned major. */
export const POSTGRES_MAJOR_VERSIONS = ['16', '17', '18'] as const;

/**
 * Kubernetes versions the platform can run: each needs its matching kubectl Lambda layer
 * package (`@aws-cdk/lambda-layer-kubectl-vNN`), so adding one means adding that package.
 */
export const KUBERNETES_VERSIONS = ['1.36'] as const;

/** Auto Mode replaces every node within 21 days; Karpenter's expireAfter must stay below that. */
const MAX_NODE_EXPIRY_HOURS = 21 * 24;

/** Kubernetes object names built from these must also be valid DNS-1035 labels, with room for suffixes. */
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const MAX_NAME_LENGTH = 40;

const logRetentionDays = z
  .number()
  .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
    message: `must be one of the CloudWatch Logs retention periods: ${LOG_RETENTION_DAYS.join(', ')}`,
  });

const dnsLabel = z
  .string()
  .max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`)
  .regex(DNS_LABEL, 'must be a DNS label: lowercase letters, digits and "-", starting with a letter');

const ipv4Cidr = z.string().refine(isCanonicalIpv4Cidr, {
  message: 'must be an IPv4 CIDR block whose address is the network address, e.g. 10.0.0.0/16',
});

const subnetMask = (fallback: number) => z.number().int().min(16).max(28).default(fallback);

const networkSchema = z
  .strictObject({
    vpcCidr: ipv4Cidr.default('10.0.0.0/16').describe('IPv4 CIDR block of the VPC; must not overlap another environment'),
    natGateways: z
      .number()
      .int()
      .min(1, 'must be at least 1: private subnets need a NAT gateway for egress')
      .max(6)
      .default(1)
      .describe('Number of NAT gateways; one per AZ for resilience, one to save cost'),
    subnetMasks: z
      .strictObject({
        public: subnetMask(24).describe('Prefix length of each public subnet (load balancers, NAT gateways)'),
        private: subnetMask(19).describe('Prefix length of each private subnet (nodes and pods take VPC addresses)'),
        isolated: subnetMask(24).describe('Prefix length of each isolated subnet (database)'),
        loadBalancer: z
          .number()
          .int()
          .min(16)
          .max(27, 'must be at most 27: a load balancer needs a /27 or larger subnet with 8 free addresses in each zone')
          .default(26)
          .describe('Prefix length of each load-balancer subnet (the shared load balancer alone; NetworkPolicies admit these)'),
        endpoints: subnetMask(27).describe(
          'Prefix length of each endpoint subnet (the interface endpoints alone; NetworkPolicies let pods reach these)',
        ),
      })
      .prefault({})
      .describe('Subnet sizes, one subnet of each kind per availability zone'),
    interfaceEndpoints: z
      .array(z.enum(INTERFACE_ENDPOINTS))
      .refine((list) => new Set(list).size === list.length, { message: 'must not list an endpoint twice' })
      .default([...INTERFACE_ENDPOINTS])
      .describe('VPC interface endpoints to create'),
    podHttpsEgress: z
      .enum(POD_HTTPS_EGRESS)
      .default('endpoints')
      .describe(
        `Where pods may open HTTPS connections: "endpoints" (the interface endpoints' subnets only; needs ${POD_API_ENDPOINTS.join(', ')} in interfaceEndpoints; required in production) or "anywhere" (any address, through NAT)`,
      ),
    flowLogs: z
      .strictObject({
        retentionDays: logRetentionDays.default(365).describe('Days to keep VPC flow logs (at least 365 in production)'),
        trafficType: z.enum(['ALL', 'REJECT']).default('ALL').describe('Which traffic the flow logs record'),
      })
      .prefault({})
      .describe('VPC flow logs, kept in an encrypted CloudWatch log group'),
  })
  .prefault({});

const databaseSchema = z
  .strictObject({
    engineVersion: z.enum(POSTGRES_MAJOR_VERSIONS).default('17').describe('PostgreSQL major version'),
    instanceType: z
      .string()
      .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'must be an instance type without the "db." prefix, e.g. t4g.medium')
      .default('t4g.medium')
      .describe('RDS instance class without the "db." prefix'),
    allocatedStorageGiB: z.number().int().min(20).max(65536).default(20).describe('Initial storage in GiB'),
    maxAllocatedStorageGiB: z
      .number()
      .int()
      .max(65536)
      .default(100)
      .describe('Upper bound for storage autoscaling in GiB'),
    multiAz: z.boolean().default(true).describe('Run a synchronous standby in a second AZ'),
    backupRetentionDays: z
      .number()
      .int()
      .min(1)
      .max(35)
      .default(14)
      .describe('Days of automated backups and point-in-time recovery (at least 7 in production)'),
    deletionProtection: z
      .boolean()
      .default(true)
      .describe('Refuse deletion of the database (always on in production)'),
    performanceInsightsRetentionDays: z
      .number()
      .int()
      .min(7)
      .max(731)
      .refine((days) => days === 7 || days === 731 || (days % 31 === 0 && days >= 31 && days <= 713), {
        message: 'must be 7, a multiple of 31 up to 713, or 731',
      })
      .default(7)
      .describe('Days of Performance Insights history (7 is free)'),
    logRetentionDays: logRetentionDays.default(365).describe('Days to keep exported PostgreSQL logs (at least 365 in production)'),
    backupWindow: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, { message: 'must look like 03:00-04:00 (UTC)', abort: true })
      .refine((value) => backupWindowMinutes(value) >= MIN_WINDOW_MINUTES, {
        message: `must last at least ${MIN_WINDOW_MINUTES} minutes, e.g. 03:00-03:30: RDS refuses a shorter backup window`,
      })
      .optional()
      .describe('Daily backup window in UTC, at least 30 minutes, apart from maintenanceWindow; RDS chooses one if unset'),
    maintenanceWindow: z
      .string()
      .regex(
        /^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$/,
        { message: 'must look like sun:04:30-sun:05:30 (UTC)', abort: true },
      )
      .refine((value) => maintenanceWindowMinutes(value) >= MIN_WINDOW_MINUTES, {
        message: `must last at least ${MIN_WINDOW_MINUTES} minutes, e.g. sun:04:30-sun:05:00: RDS refuses a shorter maintenance window`,
      })
      .optional()
      .describe('Weekly maintenance window in UTC, at least 30 minutes; RDS chooses one if unset'),
  })
  .prefault({});

const artifactsSchema = z
  .strictObject({
    noncurrentVersionExpirationDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(30)
      .describe('Days before overwritten or deleted artifact versions are removed'),
    predictionsExpirationDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(3)
      .describe('Days before objects under predictions/ (batch inference results) expire'),
    abortIncompleteMultipartUploadDays: z
      .number()
      .int()
      .min(1)
      .max(30)
      .default(7)
      .describe('Days before unfinished multipart uploads are aborted'),
    accessLogRetentionDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(365)
      .describe('Days to keep S3 server access logs'),
  })
  .prefault({});

const repositoriesSchema = z
  .strictObject({
    maxImageCount: z
      .number()
      .int()
      .min(1)
      .max(10000)
      .default(50)
      .describe('Tagged images kept per repository; older ones expire'),
    untaggedImageExpiryDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(7)
      .describe('Days before untagged images expire'),
  })
  .prefault({});

const iamPrincipalArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/,
    'must be the ARN of an IAM role or user, e.g. arn:aws:iam::111111111111:role/PlatformAdmin',
  );

const addonVersion = z
  .string()
  .regex(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/, 'must be an EKS add-on version such as v0.8.0-eksbuild.2');

const karpenterDuration = z
  .string()
  .regex(/^(\d+h)?(\d+m)?(\d+s)?$/, 'must be a duration such as 30s, 5m or 336h')
  .refine((value) => value !== '', { message: 'must not be empty' });

const consolidationPolicy = z.enum(['WhenEmpty', 'WhenEmptyOrUnderutilized']);

/**
 * An IANA time zone as KEDA's cron trigger loads it (Go's time.LoadLocation, which is
 * case-sensitive): a zone Intl lists, or an alias such as Asia/Kolkata or UTC that Intl accepts.
 */
function isTimeZone(value: string): boolean {
  if (Intl.supportedValuesOf('timeZone').includes(value)) {
    return true;
  }
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
  } catch {
    return false;
  }
  return /^(UTC|[A-Z][A-Za-z_]*(\/[A-Z][A-Za-z0-9_+-]*)+)$/.test(value);
}

const timeZone = z.string().refine(isTimeZone, {
  error: (issue) => {
    const guess = typeof issue.input === 'string' ? closest(issue.input, Intl.supportedValuesOf('timeZone')) : undefined;
    return `must be an IANA time zone such as Europe/Dublin${guess ? `; did you mean ${guess}?` : ''}`;
  },
});

/** Five cron fields (minute hour day-of-month month day-of-week), as KEDA's cron trigger reads them. */
const cronExpression = z
  .string()
  .regex(/^[0-9A-Za-z*,/-]+( [0-9A-Za-z*,/-]+){4}$/, 'must be a cron expression of 5 fields (minute hour day month weekday), e.g. 30 7 * * 1-5');

/** Hours given by a time zone and two cron expressions, as KEDA's cron trigger takes them. */
const scheduleFields = {
  timezone: timeZone.describe('IANA time zone the expressions are read in, e.g. Europe/Dublin'),
  start: cronExpression.describe('Cron expression (5 fields) at which the window opens, e.g. 30 7 * * 1-5'),
  end: cronExpression.describe('Cron expression (5 fields) at which the window closes, e.g. 0 10 * * 1-5'),
};

/** KEDA refuses a cron window that opens and closes at once. */
const distinctStartAndEnd: [(window: { start: string; end: string }) => boolean, { message: string; path: string[] }] = [
  (window) => window.start !== window.end,
  { message: 'must differ from start: KEDA refuses a cron window that opens and closes at once', path: ['end'] },
];

const peakWindowSchema = z
  .strictObject({
    ...scheduleFields,
    minReplicas: z.number().int().min(1).max(1000).describe('Fewest pods while the window is open, above minReplicas and at most maxReplicas'),
  })
  .refine(...distinctStartAndEnd);

const workingHoursSchema = z.strictObject(scheduleFields).refine(...distinctStartAndEnd);

const nodeExpiry = karpenterDuration.default('336h').refine((value) => durationHours(value) <= MAX_NODE_EXPIRY_HOURS, {
  message: `must be at most ${MAX_NODE_EXPIRY_HOURS}h: Auto Mode replaces nodes after 21 days`,
});

const disruptionBudget = z.string().regex(/^(100|[1-9]?\d)%$|^\d+$/, 'must be a node count or a percentage such as 10%');

const nodePoolSchema = z
  .strictObject({
    cpuLimit: z.number().int().min(2).max(100000).default(64).describe('Most vCPUs the pool may run at once'),
    memoryLimitGiB: z.number().int().min(4).max(1000000).default(256).describe('Most memory the pool may run at once, in GiB'),
    capacityTypes: z
      .array(z.enum(['on-demand', 'spot']))
      .min(1)
      .default(['on-demand'])
      .describe('EC2 capacity types the pool may launch'),
    instanceCategories: z
      .array(z.enum(['c', 'm', 'r', 't']))
      .min(1)
      .default(['c', 'm', 'r'])
      .describe('EC2 instance categories (c compute, m general, r memory, t burstable)'),
    minInstanceGeneration: z.number().int().min(1).max(10).default(5).describe('Oldest EC2 instance generation allowed'),
    consolidationPolicy: consolidationPolicy
      .default('WhenEmptyOrUnderutilized')
      .describe('When Karpenter may remove or replace nodes to save cost'),
    consolidateAfter: karpenterDuration.default('1m').describe('How long a node must be consolidatable before it is removed'),
    expireAfter: nodeExpiry.describe('Node lifetime before replacement (fresh AMIs and patches)'),
    disruptionBudget: disruptionBudget.default('10%').describe('Most nodes Karpenter may disrupt at once'),
  })
  .prefault({});

const clusterSchema = z
  .strictObject({
    kubernetesVersion: z.enum(KUBERNETES_VERSIONS).default('1.36').describe('Kubernetes version of the EKS control plane'),
    publicAccessCidrs: z
      .array(ipv4Cidr.refine((cidr) => cidr !== '0.0.0.0/0', { message: 'must not be 0.0.0.0/0: name the networks that may reach the API' }))
      .default([])
      .describe('CIDRs that may reach the Kubernetes API from the internet; empty keeps the endpoint private (required in production)'),
    admins: z
      .array(iamPrincipalArn)
      .default([])
      .describe('IAM roles or users given cluster admin through EKS access entries'),
    addons: z
      .strictObject({
        'metrics-server': addonVersion.describe('Version of the metrics-server add-on (HorizontalPodAutoscalers need it)'),
      })
      .catchall(addonVersion)
      .describe('EKS add-ons and their pinned versions (aws eks describe-addon-versions lists them)'),
    logRetentionDays: logRetentionDays.default(365).describe('Days to keep control-plane logs (at least 365 in production)'),
    containerLogRetentionDays: logRetentionDays
      .default(365)
      .describe('Days to keep container, node and performance logs when the amazon-cloudwatch-observability add-on is on (at least 365 in production)'),
    nodePool: nodePoolSchema.describe('The general-purpose CPU node pool for platform and model workloads'),
  })
  .describe('EKS Auto Mode cluster settings');

const ingressSchema = z
  .strictObject({
    scheme: z
      .enum(['internal', 'internet-facing'])
      .default('internal')
      .describe('Load balancer scheme; internal keeps it inside the VPC'),
    certificateArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/, 'must be an ACM certificate ARN')
      .optional()
      .describe('ACM certificate for HTTPS; without it the load balancer listens on HTTP (development only)'),
    inboundCidrs: z
      .array(ipv4Cidr)
      .min(1)
      .optional()
      .describe('CIDRs that may reach the load balancer; defaults to the VPC CIDR'),
    servingDomain: z
      .string()
      .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/, 'must be a lowercase DNS name, e.g. models.example.internal')
      .optional()
      .describe('Domain under which each model is served as <model>.<servingDomain>; required once a model is configured'),
  })
  .prefault({});

const dnsSchema = z.strictObject({
  zoneName: z
    .string()
    .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/, 'must be a lowercase DNS name, e.g. prod.mlops.example.internal')
    .describe("Domain of the hosted zone; mlflow.hostname and every model's host name must be inside it"),
  hostedZoneId: z
    .string()
    .regex(/^Z[A-Z0-9]{1,31}$/, 'must be a Route 53 hosted zone ID, e.g. Z0123456789ABCDEFGHIJ')
    .optional()
    .describe(
      'Existing zone named zoneName to write the records into instead of creating one; the platform does not associate it with the VPC, so it must be a private zone already associated with it, or the public zone callers resolve',
    ),
});

const mlflowSchema = z.strictObject({
  hostname: z
    .string()
    .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/, 'must be a lowercase DNS name, e.g. mlflow.example.internal')
    .describe('Host name users reach MLflow at; the load balancer routes it and MLflow allows it'),
  replicas: z.number().int().min(1).max(20).default(2).describe('Tracking server pods (at least 2 in production)'),
  workers: z.number().int().min(1).max(16).default(2).describe('Server worker processes per pod'),
  cpuMillicores: z.number().int().min(100).max(16000).default(500).describe('CPU request per pod, in millicores; the limit is twice this'),
  memoryMiB: z.number().int().min(512).max(65536).default(2048).describe('Memory request and limit per pod, in MiB'),
});

/**
 * Instance families EKS Auto Mode launches with NVIDIA GPUs on x86. GPU pools taint their nodes
 * with `nvidia.com/gpu`, which only the NVIDIA device plugin advertises, and launch amd64 nodes
 * only; with any other family, GPU pods stay pending.
 */
export const NVIDIA_GPU_FAMILIES = [
  'g4dn', 'g5', 'g6', 'g6e', 'gr6', 'g7e', 'p3dn', 'p4d', 'p4de', 'p5', 'p5e', 'p5en', 'p6-b200', 'p6-b300',
] as const;

/** Accelerated families Auto Mode also launches, and why a GPU pool cannot use them. */
const NOT_NVIDIA_GPU_FAMILIES: Record<string, string> = {
  inf1: 'has AWS Inferentia chips, which the Neuron device plugin serves',
  inf2: 'has AWS Inferentia2 chips, which the Neuron device plugin serves',
  trn1: 'has AWS Trainium chips, which the Neuron device plugin serves',
  trn1n: 'has AWS Trainium chips, which the Neuron device plugin serves',
  trn2: 'has AWS Trainium2 chips, which the Neuron device plugin serves',
  g4ad: 'has AMD GPUs',
  g5g: 'runs on Graviton (arm64), and GPU pools launch amd64 nodes',
};

function gpuFamilyMessage(family: string): string {
  const reason = NOT_NVIDIA_GPU_FAMILIES[family];
  if (reason) {
    return `must be an NVIDIA GPU family: ${family} ${reason}, so pods requesting nvidia.com/gpu never schedule there; use one of ${NVIDIA_GPU_FAMILIES.join(', ')}`;
  }
  const guess = closest(family, NVIDIA_GPU_FAMILIES);
  return `must be an NVIDIA GPU family EKS Auto Mode launches: ${NVIDIA_GPU_FAMILIES.join(', ')}${guess ? `; did you mean ${guess}?` : ''}`;
}

const gpuPoolSchema = z.strictObject({
  name: dnsLabel.describe('Pool name; models pick it with gpu.pool, and its nodes carry it as a label'),
  instanceFamilies: z
    .array(z.enum(NVIDIA_GPU_FAMILIES, { error: (issue) => (typeof issue.input === 'string' ? gpuFamilyMessage(issue.input) : undefined) }))
    .min(1)
    .describe('EC2 instance families with NVIDIA GPUs, e.g. [g6, g6e]'),
  capacityType: z
    .enum(['on-demand', 'spot'])
    .default('on-demand')
    .describe('spot where interruption is acceptable (training, batch), on-demand for online inference'),
  gpuLimit: z.number().int().min(1).max(1024).describe('Most GPUs the pool may run at once'),
  cpuLimit: z.number().int().min(4).max(100000).default(256).describe('Most vCPUs the pool may run at once'),
  consolidationPolicy: consolidationPolicy
    .default('WhenEmpty')
    .describe('When Karpenter may remove GPU nodes; WhenEmpty avoids moving model pods that load slowly'),
  consolidateAfter: karpenterDuration.default('5m').describe('How long a node must be idle before it goes (idle pools scale to zero)'),
  expireAfter: nodeExpiry.describe('Node lifetime before replacement'),
  disruptionBudget: disruptionBudget.default('1').describe('Most GPU nodes Karpenter may disrupt at once'),
});

const millicores = (fallback: number) => z.number().int().min(10).max(192000).default(fallback);
const mebibytes = (fallback: number) => z.number().int().min(16).max(2097152).default(fallback);

const modelResourcesSchema = z
  .strictObject({
    cpuRequestMillicores: millicores(500).describe('CPU request per pod, in millicores'),
    cpuLimitMillicores: millicores(1000).describe('CPU limit per pod, in millicores'),
    memoryRequestMiB: mebibytes(1024).describe('Memory request per pod, in MiB'),
    memoryLimitMiB: mebibytes(1024).describe('Memory limit per pod, in MiB'),
  })
  .prefault({});

/** ALB forwards one listener rule to at most this many target groups, so a model has at most this many versions. */
export const MAX_VERSIONS_PER_MODEL = 5;

/** Version names join the model's in Kubernetes object names (`<model>-<version>`), within 63 characters. */
const MAX_VERSION_NAME_LENGTH = 15;

const versionName = z
  .string()
  .max(MAX_VERSION_NAME_LENGTH, `must be at most ${MAX_VERSION_NAME_LENGTH} characters`)
  .regex(DNS_LABEL, 'must be a DNS label: lowercase letters, digits and "-", starting with a letter');

/** One deployable version of a model: an image built from one registry version, with its own pods and autoscaler. */
/** An MLflow registry alias, e.g. champion. */
const mlflowAlias = z.string().regex(/^[A-Za-z][\w-]{0,254}$/, 'must be an MLflow alias such as champion');

const modelVersionSchema = z.strictObject({
  name: versionName.describe('Version name, e.g. v7; names its Kubernetes objects (<model>-<version>) and its target group'),
  alias: mlflowAlias
    .optional()
    .describe('Registry alias the image was built from, e.g. champion (or give version)'),
  version: z.number().int().min(1).max(100000).optional().describe('Registry version the image was built from (or give alias)'),
  imageTag: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'must be a Docker image tag')
    .refine((tag) => tag !== 'latest', { message: 'must name a release, not latest: the repositories keep tags immutable' })
    .describe("Tag of the serving image in the model's ECR repository"),
  resources: modelResourcesSchema.describe('CPU and memory per pod'),
  workers: z
    .number()
    .int()
    .min(1)
    .max(64)
    .optional()
    .describe('Scoring server processes per pod; defaults to one per whole CPU of the limit, one for GPU models'),
  gpu: z
    .strictObject({
      pool: dnsLabel.describe('Name of the GPU pool to run on'),
      count: z.number().int().min(1).max(8).default(1).describe('GPUs per pod'),
    })
    .optional()
    .describe('GPUs per pod and the pool they come from; omit for CPU models'),
  autoscaling: z
    .strictObject({
      minReplicas: z.number().int().min(1).max(1000).default(2).describe('Pods kept running at the quietest hour'),
      maxReplicas: z.number().int().min(1).max(1000).default(10).describe('Pods at the busiest peak'),
      targetCpuUtilization: z
        .number()
        .int()
        .min(10)
        .max(95)
        .default(60)
        .describe('Average CPU use, as a percentage of the request, the autoscaler aims for'),
      peakWindows: z
        .array(peakWindowSchema)
        .max(10)
        .default([])
        .describe('Known busy hours: pods are started ahead of the spike and kept until the window closes'),
      workingHours: workingHoursSchema
        .optional()
        .describe('Development only: the hours the version runs; outside them it scales to zero pods (first request after waits for a pod)'),
    })
    .prefault({})
    .describe('KEDA autoscaler settings: request rate, CPU use, peak windows and working hours'),
  podRequestsPerSecond: z
    .number()
    .min(0.1, 'must be at least 0.1 requests per second')
    .max(100000, 'must be at most 100000 requests per second, more than one scoring server pod sustains: check the measurement')
    .describe('Requests per second one pod sustains within the SLO, measured with npm run bench:serving; the request-rate autoscaler aims below it'),
  startupSeconds: z
    .number()
    .int()
    .min(30)
    .max(3600)
    .default(600)
    .describe('Longest time the version may take to load before the pod counts as failed'),
});

/** One version of a model, validated, with defaults filled in. */
export type ModelVersionSettings = z.output<typeof modelVersionSchema>;

const httpHeaderName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be a lowercase HTTP header name such as x-model-version')
  .refine((name) => !['host', 'cookie', 'authorization', 'content-type', 'content-length'].includes(name), {
    message: 'must be a header of its own, not one HTTP or the load balancer already uses (host, cookie, authorization, content-type, content-length)',
  });

const trafficSchema = z
  .strictObject({
    // Any key: checkModelRules names the model's versions to a key that is not one of them.
    weights: z
      .record(z.string(), z.number().int().min(0).max(100))
      .optional()
      .describe('Share of requests per version name, in percent, summing to 100; versions left out get 0; default: the first version 100'),
    stickinessSeconds: z
      .number()
      .int()
      .min(1)
      .max(604800)
      .optional()
      .describe('A/B tests: a caller stays on the version it first got for this long (load balancer cookie, at most 7 days)'),
    versionHeader: httpHeaderName
      .optional()
      .describe('Header whose value names a version to pin a request to it, e.g. x-model-version (for testing a version directly)'),
    shadow: z
      .strictObject({
        version: versionName.describe('Version that receives copies; its answers are discarded'),
        percent: z.number().int().min(1).max(100).describe("Share of the first version's requests copied to it, in percent"),
      })
      .optional()
      .describe("Copies a share of the first version's requests to another version, through the model's router"),
    fallback: versionName
      .optional()
      .describe('Version that answers, through the model\'s router, when the first version fails or has no pods'),
  })
  .prefault({});

const sloSchema = z
  .strictObject({
    p95Milliseconds: z.number().int().min(10).max(60000).default(300).describe('Target 95th percentile response time of each version'),
    p99Milliseconds: z.number().int().min(10).max(60000).default(500).describe('Target 99th percentile response time of each version'),
    errorRatioPercent: z.number().min(0.01).max(100).default(1).describe('Highest share of 5XX answers of each version, in percent'),
  })
  .prefault({});

/** Where a team's job input lies: a bucket and a folder in it, spelt only with characters that cannot widen an IAM resource ARN. */
const S3_FOLDER_URI = /^s3:\/\/(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/([A-Za-z0-9!_.'()-]+\/)+$/;
const S3_FOLDER_MESSAGE = "must be an S3 folder such as s3://fraud-data/scoring/daily/: a bucket name, then a prefix of letters, digits and !_.'()- ending in /";
const s3FolderUri = z.string().regex(S3_FOLDER_URI, S3_FOLDER_MESSAGE);

/** A customer managed KMS key by its key ARN: IAM statements allow kms:Decrypt on key ARNs, not on aliases. */
const kmsKeyArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/, 'must be a KMS key ARN such as arn:aws:kms:eu-west-1:111111111111:key/<id>');

/** CPU and memory of the batch job's containers; each field left out is the first version's. */
const batchResourcesSchema = z.strictObject({
  cpuRequestMillicores: z.number().int().min(10).max(192000).optional().describe('CPU request per container, in millicores'),
  cpuLimitMillicores: z.number().int().min(10).max(192000).optional().describe('CPU limit per container, in millicores'),
  memoryRequestMiB: z.number().int().min(16).max(2097152).optional().describe('Memory request per container, in MiB'),
  memoryLimitMiB: z.number().int().min(16).max(2097152).optional().describe('Memory limit per container, in MiB'),
});

/** A scheduled job that scores a folder of files with the first version's image and writes the results to the artifact bucket. */
const batchSchema = z.strictObject({
  schedule: z
    .string()
    .min(1)
    .describe('When runs start: a cron expression of 5 fields, at most once a day, at most 6 days apart, e.g. 30 5 * * *'),
  timeZone: timeZone.default('UTC').describe('IANA time zone the schedule and the run date are read in, e.g. Europe/Dublin'),
  input: s3FolderUri.describe('Folder of input files the team owns, e.g. s3://fraud-data/scoring/daily/; every file in it is scored'),
  inputKmsKeyArn: kmsKeyArn
    .optional()
    .describe('Customer managed KMS key the input files are encrypted with, if any; the job may decrypt with it through S3 only'),
  format: z
    .enum(['csv', 'parquet', 'json'])
    .describe('Format of the input files: csv (each with the same header row), parquet, or json (JSON Lines, one record object a line)'),
  timeoutMinutes: z
    .number()
    .int()
    .min(5)
    .max(1440)
    .default(60)
    .describe('Longest a run may take, its retries included, before it fails'),
  retries: z.number().int().min(0).max(10).default(2).describe('Times a failed run starts again in a new pod before it counts as failed'),
  resources: batchResourcesSchema.optional().describe("CPU and memory of each of the job's containers; defaults to the first version's"),
  workVolumeGiB: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(10)
    .describe("Size of the pod's scratch volume, which holds the run's input and predictions"),
});

/** A model's batch inference settings, validated, with defaults filled in. */
export type BatchSettings = z.output<typeof batchSchema>;

/** CPU and memory of the training step; training data grows, so the team sizes them (docs/training.md). */
const trainingResourcesSchema = z
  .strictObject({
    cpuRequestMillicores: millicores(1000).describe('CPU request of the training step, in millicores'),
    cpuLimitMillicores: millicores(2000).describe('CPU limit of the training step, in millicores'),
    memoryRequestMiB: mebibytes(4096).describe('Memory request of the training step, in MiB'),
    memoryLimitMiB: mebibytes(4096).describe('Memory limit of the training step, in MiB'),
  })
  .prefault({});

/** A scheduled training job in the team's own image, then the platform's promotion gate. */
const trainingSchema = z.strictObject({
  schedule: z
    .string()
    .min(1)
    .describe('When runs start: a cron expression of 5 fields, at most once a day, at most 6 days apart, e.g. 0 2 * * *'),
  timeZone: timeZone.default('UTC').describe('IANA time zone the schedule is read in, e.g. Europe/Dublin'),
  image: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "must be a Docker image tag in the model's ECR repository, e.g. train-2026.11.1")
    .refine((tag) => tag !== 'latest', { message: 'must name a release, not latest: the repositories keep tags immutable' })
    .describe("Tag of the training image in the model's own ECR repository, e.g. train-2026.11.1"),
  command: z
    .array(z.string().min(1).max(4096))
    .min(1, 'must list the program and its arguments, e.g. [python, train.py]')
    .max(64)
    .describe('Command of the training step, e.g. [python, /app/train.py]; it must register a new version and set alias challenger'),
  input: s3FolderUri
    .optional()
    .describe('Folder of training data the team owns, e.g. s3://fraud-data/training/; the training step may list and read it, and gets it as TRAINING_INPUT'),
  inputKmsKeyArn: kmsKeyArn
    .optional()
    .describe('Customer managed KMS key the input files are encrypted with, if any; the job may decrypt with it through S3 only'),
  resources: trainingResourcesSchema.describe('CPU and memory of the training step; size them for the data at its largest (docs/training.md)'),
  gpu: z
    .strictObject({
      pool: dnsLabel.describe('Name of the GPU pool to run on, e.g. a spot pool'),
      count: z.number().int().min(1).max(8).default(1).describe('GPUs of the training step'),
    })
    .optional()
    .describe('GPUs of the training step and the pool they come from; omit to train on the general CPU pool'),
  experiment: z
    .string()
    .min(1)
    .max(500)
    .describe('MLflow experiment the runs log to; must be <team>/..., so the team user manages it'),
  metric: z
    .string()
    .min(1)
    .max(250)
    .regex(/^[^\r\n]+$/, 'must be an MLflow metric name on one line')
    .describe("Metric of each version's training run the promotion gate compares, e.g. val_auc"),
  direction: z.enum(['max', 'min']).describe('max when a higher metric is better, min when lower is'),
  minImprovement: z
    .number()
    .min(0)
    .default(0)
    .describe("Least improvement, in the metric's own units, for the challenger to become champion"),
  timeoutMinutes: z
    .number()
    .int()
    .min(5)
    .max(1440)
    .default(120)
    .describe("Longest a run may take, its retries included, before it fails (the Job's activeDeadlineSeconds)"),
  retries: z
    .number()
    .int()
    .min(0)
    .max(10)
    .default(2)
    .describe('Times a failed run starts again in a new pod, e.g. after a spot interruption, before it counts as failed'),
  workVolumeGiB: z
    .number()
    .int()
    .min(1)
    // The nodes' root volume, which holds emptyDir volumes, is Auto Mode's default of 80 GiB.
    .max(60, 'must be at most 60 GiB: the scratch volume is node disk, 80 GiB per node, which images and logs share')
    .default(20)
    .describe('Size of the scratch volume at /tmp the training step may download its data into'),
});

/** A model's training settings, validated, with defaults filled in. */
export type TrainingSettings = z.output<typeof trainingSchema>;

/** CPU and memory of the drift job's report step, which holds both datasets in memory. */
const driftResourcesSchema = z
  .strictObject({
    cpuRequestMillicores: millicores(500).describe('CPU request of the report step, in millicores'),
    cpuLimitMillicores: millicores(1000).describe('CPU limit of the report step, in millicores'),
    memoryRequestMiB: mebibytes(2048).describe('Memory request of the report step, in MiB'),
    memoryLimitMiB: mebibytes(2048).describe('Memory limit of the report step, in MiB'),
  })
  .prefault({});

/** A path among a run's artifacts: names joined by /, none of them . or .., so it cannot leave the run's artifacts. */
const ARTIFACT_PATH = /^(?!\.\.?(\/|$))(?!.*\/\.\.?(\/|$))[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

/** A reference dataset that the run behind a version of the model's registered model logged, found by the version's alias (docs/drift.md). */
const driftModelArtifactSchema = z.strictObject({
  alias: mlflowAlias.describe("Alias of the model's registeredModel whose version's run logged the reference, e.g. champion; looked up at each run"),
  artifactPath: z
    .string()
    .max(500, 'must be at most 500 characters')
    .regex(ARTIFACT_PATH, "must be a path among the run's artifacts such as reference/train.parquet: names of letters, digits and _.- joined by /, none of them . or ..")
    .describe("File, or folder read whole, among that run's artifacts, e.g. reference/train.parquet"),
});

/** Where a drift report's reference data is: an S3 folder, or a registered model's run artifact. */
const driftReferenceSchema = z.union(
  [
    z.string().regex(S3_FOLDER_URI, `${S3_FOLDER_MESSAGE}, or a mapping naming a run artifact: { alias: champion, artifactPath: reference/train.parquet }`),
    driftModelArtifactSchema,
  ],
  {
    // A mapping gets here only when a field is missing or not text; every other problem is the option's own.
    error: (issue) =>
      typeof issue.input === 'object' && issue.input !== null && !Array.isArray(issue.input)
        ? 'must give both alias and artifactPath, as text: { alias: champion, artifactPath: reference/train.parquet }'
        : 'must be an S3 folder such as s3://fraud-data/training/, or a mapping naming a run artifact: { alias: champion, artifactPath: reference/train.parquet }',
  },
);

/** A scheduled Evidently data drift report comparing the current data of a model with a reference (docs/drift.md). */
const driftSchema = z.strictObject({
  schedule: z
    .string()
    .min(1)
    .describe('When runs start: a cron expression of 5 fields, at most once a day, at most 6 days apart, e.g. 0 7 * * *'),
  timeZone: timeZone.default('UTC').describe('IANA time zone the schedule is read in, e.g. Europe/Dublin'),
  reference: driftReferenceSchema.describe(
    "Reference data: an S3 folder, e.g. the training data: s3://fraud-data/training/2026-11/; or an artifact of the run behind an alias of the model's registeredModel, read through MLflow: { alias: champion, artifactPath: reference/train.parquet }",
  ),
  current: s3FolderUri.describe('Folder of the data to compare with it, e.g. the batch input: s3://fraud-data/scoring/daily/'),
  format: z
    .enum(['csv', 'parquet', 'json'])
    .describe('Format of the files of both folders: csv (each with a header row), parquet, or json (JSON Lines)'),
  threshold: z
    .number()
    .min(0)
    .max(1)
    .describe('Share of drifted columns (0-1) above which the drift alarm fires, e.g. 0.3'),
  timeoutMinutes: z.number().int().min(5).max(1440).default(30).describe('Longest a run may take, its retries included, before it fails'),
  retries: z.number().int().min(0).max(10).default(1).describe('Times a failed run starts again in a new pod before it counts as failed'),
  resources: driftResourcesSchema.describe('CPU and memory of the report step; size the memory for both datasets at once'),
  workVolumeGiB: z.number().int().min(1).max(60).default(10).describe('Size of the scratch volume holding the downloaded files and the report'),
});

/** A model's drift report settings, validated, with defaults filled in. */
export type DriftSettings = z.output<typeof driftSchema>;

/** A drift reference given as a run artifact of the model's registered model. */
export type DriftModelArtifactSettings = z.output<typeof driftModelArtifactSchema>;

const modelSchema = z
  .strictObject({
    name: dnsLabel.describe('Model name; names its ECR repository and Kubernetes objects'),
    registeredModel: z
      .string()
      .min(1)
      .max(256)
      .describe('Name of the MLflow registered model the images were built from'),
    versions: z
      .array(modelVersionSchema)
      .min(1, 'must list at least one version')
      .max(MAX_VERSIONS_PER_MODEL, `must list at most ${MAX_VERSIONS_PER_MODEL} versions: a load balancer rule forwards to at most ${MAX_VERSIONS_PER_MODEL} target groups`)
      .describe('Versions served; the first is the primary, which the shadow copies and the fallback stands in for'),
    traffic: trafficSchema.describe('How requests are split between versions: canary, A/B, shadow and fallback'),
    slo: sloSchema.describe('Latency and error targets; each version alarms when it misses them'),
    capacity: z
      .strictObject({
        peakRequestsPerSecond: z
          .number()
          .min(0.1, 'must be at least 0.1 requests per second')
          .max(1000000, 'must be at most 1000000 requests per second: check the unit is requests per second')
          .describe('Requests per second the model must serve at its busiest, across all its versions'),
      })
      .describe(`Request rate that sizes the versions: each version's maxReplicas × podRequestsPerSecond must be at least ${SERVING_HEADROOM} × its share of peakRequestsPerSecond`),
    exposure: z
      .strictObject({
        hostname: z
          .string()
          .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/, 'must be a lowercase DNS name')
          .optional()
          .describe('Host name clients call; defaults to <model>.<ingress.servingDomain>'),
        allowedNamespaces: z
          .array(dnsLabel)
          .default([])
          .describe('Namespaces whose pods may call the model directly, besides the load balancer'),
      })
      .prefault({})
      .describe('How clients reach the model'),
    batch: batchSchema
      .optional()
      .describe('Batch inference: a scheduled job scoring a folder of files with the first version\'s image, writing predictions/<model>/<date>/ in the artifact bucket'),
    training: trainingSchema
      .optional()
      .describe('Scheduled training in the team\'s image, registering a version with alias challenger, then the promotion gate moving champion to it when better'),
    drift: driftSchema
      .optional()
      .describe('Daily data drift report: the current folder against the reference, logged to MLflow <team>/drift, a DriftShare metric and an alarm above threshold'),
  })
  .superRefine(checkModelRules);

/** One model of a team, validated, with defaults filled in. */
export type ModelSettings = z.output<typeof modelSchema>;

const teamSchema = z.strictObject({
  name: dnsLabel.describe('Team name; names its Kubernetes namespace'),
  admins: z.array(iamPrincipalArn).default([]).describe('IAM roles or users that run workloads in the team namespace but may not change its network (see docs/onboarding.md)'),
  members: z.array(iamPrincipalArn).default([]).describe('IAM roles or users that may view the namespace and restart its models'),
  quota: z
    .strictObject({
      cpu: z.number().min(1).max(100000).describe('vCPUs the namespace may request in all'),
      memoryGiB: z.number().min(1).max(1000000).describe('Memory the namespace may request in all, in GiB'),
      pods: z.number().int().min(1).max(10000).describe('Pods the namespace may run'),
      gpus: z.number().int().min(0).max(1024).default(0).describe('GPUs the namespace may request'),
    })
    .describe('ResourceQuota of the namespace; the models at their maximum scale and their scheduled jobs must fit'),
  models: z.array(modelSchema).default([]).describe('Models the team serves'),
});

/** The schema of one `config/<environment>.yaml` file. */
export const environmentSchema = z
  .strictObject({
    environmentType: z
      .enum(['development', 'production'])
      .default('production')
      .describe('development allows cheap, disposable data; production enforces backups, deletion protection and retention'),
    account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account ID').describe('AWS account ID'),
    region: z
      .string()
      .regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, 'must be an AWS region code, e.g. eu-west-1')
      .describe('AWS region'),
    availabilityZones: z
      .array(z.string())
      .min(2, 'must list at least 2 zones: EKS and RDS subnet groups need two')
      .max(6)
      .describe('Availability zones to use, named explicitly so synth needs no AWS lookup'),
    namePrefix: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,15}$/, 'must be 2-16 lowercase letters, digits or "-", starting with a letter')
      .default('mlops')
      .describe('Prefix of physical resource names'),
    tags: z.record(z.string(), z.string()).default({}).describe('Tags applied to every resource'),
    network: networkSchema.describe('VPC settings'),
    database: databaseSchema.describe('RDS PostgreSQL settings (MLflow backend store)'),
    artifacts: artifactsSchema.describe('S3 artifact bucket settings'),
    repositories: repositoriesSchema.describe('ECR repository settings'),
    cluster: clusterSchema,
    ingress: ingressSchema.describe('The shared Application Load Balancer in front of MLflow and models'),
    mlflow: mlflowSchema.describe('MLflow tracking server'),
    dns: dnsSchema
      .optional()
      .describe("Route 53 alias records pointing MLflow's and every model's host name at the shared load balancer, in a private hosted zone of the VPC the platform creates (or an existing zone)"),
    alarms: z
      .strictObject({
        emails: z
          .array(z.email('must be an email address'))
          .default([])
          .describe('Addresses the alarm topic mails (each confirms its subscription once)'),
        httpsEndpoint: z
          .url({ protocol: /^https$/, error: 'must be an https:// URL' })
          .optional()
          .describe('HTTPS endpoint the alarm topic posts to; it is written into the template, so it must not hold a token (use an endpoint that authenticates the SNS signature)'),
      })
      .prefault({})
      .describe("The environment's alarm topic: who hears of SLO breaches and failed jobs"),
    ci: z
      .strictObject({
        githubRepository: z
          .string()
          .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be a GitHub repository as owner/name')
          .describe('Repository whose workflows may deploy and diff this environment'),
        createOidcProvider: z
          .boolean()
          .default(true)
          .describe("Create the account's GitHub OIDC provider; false where one exists already (one per account)"),
      })
      .optional()
      .describe('GitHub Actions identities for this environment, in the CiIdentity stack of its account'),
    gpuPools: z.array(gpuPoolSchema).default([]).describe('GPU node pools; each scales to zero when idle'),
    teams: z.array(teamSchema).default([]).describe('Teams onboarded to the platform'),
  })
  .superRefine(checkCrossFieldRules);

/** A validated environment's settings as written in its file, with defaults filled in. */
export type EnvironmentSettings = z.output<typeof environmentSchema>;

/** One environment: its name (the config file's base name) and its validated settings. */
export interface EnvironmentConfig extends EnvironmentSettings {
  /** Environment name; also the CDK stage name. */
  readonly name: string;
}

/** Hours in a Karpenter duration such as `336h`, `90m` or `1h30m`. */
function durationHours(value: string): number {
  const [, hours = '0', minutes = '0', seconds = '0'] = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value) ?? [];
  return Number(hours) + Number(minutes) / 60 + Number(seconds) / 3600;
}
