import { DEFAULT_ROUTER_REPLICAS, hasRouter, ROUTER_RESOURCES } from './router-sizing';
import { ScheduledJobPod, scheduledJobPods, ScheduledJobsSizing } from './scheduled-job-sizing';

/** What a set of model pods asks the scheduler for. */
export interface Demand {
  /** Pods. */
  readonly pods: number;
  /** vCPUs requested. */
  readonly cpu: number;
  /** Memory requested, in GiB. */
  readonly memoryGiB: number;
  /** GPUs requested. */
  readonly gpus: number;
}

/** The parts of a model version's config that decide its demand. */
export interface ModelSizing {
  readonly resources: { readonly cpuRequestMillicores: number; readonly memoryRequestMiB: number };
  readonly gpu?: { readonly count: number };
  readonly autoscaling: { readonly maxReplicas: number };
}

/** Resources a Demand is made of, in report order. */
export const DEMAND_RESOURCES = ['pods', 'cpu', 'memoryGiB', 'gpus'] as const;

/**
 * What model versions ask for at their peak: every one at maxReplicas, plus the extra pod a rolling
 * update starts before it stops an old one (maxSurge 1, maxUnavailable 0).
 */
export function peakDemand(models: readonly ModelSizing[]): Demand {
  return models.reduce<Demand>(
    (sum, model) => {
      const pods = model.autoscaling.maxReplicas + 1;
      return {
        pods: sum.pods + pods,
        cpu: sum.cpu + (pods * model.resources.cpuRequestMillicores) / 1000,
        memoryGiB: sum.memoryGiB + (pods * model.resources.memoryRequestMiB) / 1024,
        gpus: sum.gpus + pods * (model.gpu?.count ?? 0),
      };
    },
    { pods: 0, cpu: 0, memoryGiB: 0, gpus: 0 },
  );
}

/** The parts of a model's config that decide whether it has a router, and name it. */
export interface RoutedModel {
  readonly name: string;
  readonly traffic: { readonly shadow?: unknown; readonly fallback?: string };
}

/**
 * What the routers of `models` ask for at peak: each router's replicas plus the extra pod its
 * rolling update starts (maxSurge 1); nothing for a model without a shadow or a fallback.
 */
export function routerDemand(models: readonly RoutedModel[]): Demand {
  const pods = models.filter((model) => hasRouter(model.traffic)).length * (DEFAULT_ROUTER_REPLICAS + 1);
  return {
    pods,
    cpu: (pods * ROUTER_RESOURCES.cpuRequestMillicores) / 1000,
    memoryGiB: (pods * ROUTER_RESOURCES.memoryRequestMiB) / 1024,
    gpus: 0,
  };
}

/**
 * What the pods of scheduled jobs ask for: each job's pod once, at its effective request. A job
 * runs one pod at a time, but the schedules are free-form cron, so every job of a team may run at
 * once, and at its serving peak: the worst case is counted.
 */
export function jobDemand(pods: readonly ScheduledJobPod[]): Demand {
  return {
    pods: pods.length,
    cpu: pods.reduce((sum, pod) => sum + pod.cpuRequestMillicores, 0) / 1000,
    memoryGiB: pods.reduce((sum, pod) => sum + pod.memoryRequestMiB, 0) / 1024,
    gpus: pods.reduce((sum, pod) => sum + pod.gpus, 0),
  };
}

/** One share of a peak: what it is of, what it counts and how much. */
export interface CapacityPart {
  /** What the share is of: `serving`, `routers`, `scheduled jobs` or `MLflow`. */
  readonly name: string;
  /** What it counts, in words, e.g. `every model at maxReplicas plus one rolling-update pod`. */
  readonly counts: string;
  /** Its demand at peak. */
  readonly peak: number;
}

/** One line of a capacity report: what something needs at peak against what it is allowed. */
export interface CapacityLine {
  /** What is measured, e.g. `team fraud` or `GPU pool inference`. */
  readonly subject: string;
  /** Where the ceiling is set in config. */
  readonly path: (string | number)[];
  /** Demand at peak: the sum of the parts. */
  readonly peak: number;
  /** The shares of the peak, serving first; routers and scheduled jobs only when there are some. */
  readonly parts: readonly CapacityPart[];
  /** The configured ceiling. */
  readonly limit: number;
}

type ServedVersion = ModelSizing & { readonly gpu?: { readonly pool: string; readonly count: number } };

/** The parts of a model's config a capacity report reads: its versions, its router and its scheduled jobs. */
type CapacityModel = RoutedModel & ScheduledJobsSizing & { readonly versions: readonly ServedVersion[] };

/** The parts of an environment's config a capacity report reads. */
export interface CapacityInputs {
  readonly teams: readonly {
    readonly name: string;
    readonly quota: Readonly<Record<(typeof DEMAND_RESOURCES)[number], number>>;
    readonly models: readonly CapacityModel[];
  }[];
  readonly gpuPools: readonly { readonly name: string; readonly gpuLimit: number; readonly cpuLimit: number }[];
  readonly cluster: { readonly nodePool: { readonly cpuLimit: number; readonly memoryLimitGiB: number } };
  readonly mlflow: { readonly replicas: number; readonly cpuMillicores: number; readonly memoryMiB: number };
}

/** A model's scheduled job pod, with the model's name. */
type NamedJobPod = ScheduledJobPod & { readonly model: string };

/** The demands a peak is made of, before they are read for one resource. */
interface Shares {
  /** What the serving versions count, in words, and their demand. */
  readonly serving: { readonly counts: string; readonly demand: Demand };
  /** Models whose routers count, if they have one. */
  readonly routed: readonly RoutedModel[];
  /** Scheduled job pods that count. */
  readonly jobs: readonly NamedJobPod[];
}

/** The parts of a peak for one resource: serving, then the routers and the scheduled jobs when there are some. */
function parts(shares: Shares, resource: keyof Demand): CapacityPart[] {
  const routed = shares.routed.filter((model) => hasRouter(model.traffic));
  const routers: CapacityPart = {
    name: 'routers',
    counts: `${DEFAULT_ROUTER_REPLICAS} pods plus one rolling-update pod each: ${routed.map((model) => model.name).join(', ')}`,
    peak: routerDemand(routed)[resource],
  };
  const jobs: CapacityPart = {
    name: 'scheduled jobs',
    counts: `one pod each, all at once: ${shares.jobs.map((pod) => `${pod.model} ${pod.job}`).join(', ')}`,
    peak: jobDemand(shares.jobs)[resource],
  };
  return [
    { name: 'serving', counts: shares.serving.counts, peak: shares.serving.demand[resource] },
    ...(routed.length > 0 ? [routers] : []),
    ...(shares.jobs.length > 0 ? [jobs] : []),
  ];
}

/** A line whose peak is the sum of its parts, to a millionth, so that 0.1 + 0.2 vCPU fits a limit of 0.3. */
function line(subject: string, path: (string | number)[], lineParts: CapacityPart[], limit: number): CapacityLine {
  const peak = Math.round(lineParts.reduce((sum, part) => sum + part.peak, 0) * 1e6) / 1e6;
  return { subject, path, peak, parts: lineParts, limit };
}

/**
 * Every ceiling against what its workloads need at peak: each team's quota against its models'
 * versions, routers and scheduled jobs, each GPU pool's GPU and CPU limits against the versions and
 * jobs on it, and the general pool's limits against the CPU versions, the routers, the jobs without
 * GPUs and MLflow. Node pool limits bound node capacity, which exceeds what pods may request, so
 * fitting is necessary, not enough.
 */
export function capacityLines(config: CapacityInputs): CapacityLine[] {
  const versionsOf = (models: readonly CapacityModel[]) => models.flatMap((model) => model.versions);
  const jobsOf = (models: readonly CapacityModel[]) => models.flatMap((model) => scheduledJobPods(model).map((pod) => ({ ...pod, model: model.name })));
  const allModels = config.teams.flatMap((team) => team.models);
  const models = versionsOf(allModels);
  const jobs = jobsOf(allModels);
  // Routers run on the general pool, beside the CPU versions and the jobs without GPUs.
  const general: Shares = {
    serving: { counts: 'every CPU model at maxReplicas plus one rolling-update pod', demand: peakDemand(models.filter((model) => !model.gpu)) },
    routed: allModels,
    jobs: jobs.filter((pod) => pod.gpuPool === undefined),
  };
  const { mlflow } = config;
  const mlflowPart = (resource: 'cpu' | 'memoryGiB'): CapacityPart => ({
    name: 'MLflow',
    counts: 'mlflow.replicas plus one rolling-update pod',
    peak: (mlflow.replicas + 1) * (resource === 'cpu' ? mlflow.cpuMillicores / 1000 : mlflow.memoryMiB / 1024),
  });
  return [
    ...config.teams.flatMap((team, index) => {
      const shares: Shares = {
        serving: { counts: 'every model at maxReplicas plus one rolling-update pod', demand: peakDemand(versionsOf(team.models)) },
        routed: team.models,
        jobs: jobsOf(team.models),
      };
      return DEMAND_RESOURCES.map((resource) => line(`team ${team.name}`, ['teams', index, 'quota', resource], parts(shares, resource), team.quota[resource]));
    }),
    ...config.gpuPools.flatMap((pool, index) => {
      const shares: Shares = {
        serving: { counts: 'every model on it at maxReplicas plus one rolling-update pod', demand: peakDemand(models.filter((model) => model.gpu?.pool === pool.name)) },
        routed: [],
        jobs: jobs.filter((pod) => pod.gpuPool === pool.name),
      };
      return [
        line(`GPU pool ${pool.name}`, ['gpuPools', index, 'gpuLimit'], parts(shares, 'gpus'), pool.gpuLimit),
        line(`GPU pool ${pool.name}`, ['gpuPools', index, 'cpuLimit'], parts(shares, 'cpu'), pool.cpuLimit),
      ];
    }),
    line('general pool', ['cluster', 'nodePool', 'cpuLimit'], [...parts(general, 'cpu'), mlflowPart('cpu')], config.cluster.nodePool.cpuLimit),
    line('general pool', ['cluster', 'nodePool', 'memoryLimitGiB'], [...parts(general, 'memoryGiB'), mlflowPart('memoryGiB')], config.cluster.nodePool.memoryLimitGiB),
  ];
}

/**
 * How far a model's serving capacity at maxReplicas must exceed its peak request rate: room for
 * the seconds before the autoscaler reacts, for pods still warming up, and for a measurement
 * taken on one pod that a fleet does not quite repeat.
 */
export const SERVING_HEADROOM = 1.3;

/** The parts of a model version's config that decide the request rate it can serve. */
export interface ServingSizing {
  readonly autoscaling: { readonly maxReplicas: number };
  /** Requests per second one pod sustains within the SLO. */
  readonly podRequestsPerSecond: number;
  /** Requests per second the version must serve at its busiest: its share of the model's peak. */
  readonly peakRequestsPerSecond: number;
}

/** A version's request rate at peak against what its pods serve at maxReplicas. */
export interface ServingCapacity {
  /** Requests per second at peak, the version's share of the model's. */
  readonly peak: number;
  /** What the rule asks for: SERVING_HEADROOM × peak, in requests per second. */
  readonly required: number;
  /** What maxReplicas pods serve: maxReplicas × podRequestsPerSecond, in requests per second. */
  readonly capacity: number;
  /** Spare capacity at peak, as a fraction of the peak: 0.3 is 30 % above it; Infinity with no traffic. */
  readonly headroom: number;
  /** The smallest maxReplicas that meets the rule with the configured podRequestsPerSecond. */
  readonly minimumMaxReplicas: number;
  /** True when capacity is at least required. */
  readonly sufficient: boolean;
}

/** Request rates are compared to a millionth, so 1.3 × 100 is 130, not 130.00000000000003. */
const rate = (value: number) => Math.round(value * 1e6) / 1e6;

/** What a version serves at maxReplicas against SERVING_HEADROOM × its peak. */
export function servingCapacity(version: ServingSizing): ServingCapacity {
  const { peakRequestsPerSecond: peak, podRequestsPerSecond: perPod } = version;
  const required = rate(peak * SERVING_HEADROOM);
  const capacity = rate(version.autoscaling.maxReplicas * perPod);
  return {
    peak,
    required,
    capacity,
    headroom: peak > 0 ? rate(capacity / peak - 1) : Infinity,
    minimumMaxReplicas: Math.max(1, Math.ceil(rate(required / perPod))),
    sufficient: capacity >= required,
  };
}

/** The parts of a model's config that decide how its requests spread over its versions. */
export interface TrafficSplit {
  readonly versions: readonly { readonly name: string }[];
  readonly traffic: {
    readonly weights?: Readonly<Record<string, number>>;
    readonly shadow?: { readonly version: string; readonly percent: number };
    readonly fallback?: string;
  };
}

/** Each version's weight on the load balancer, in percent: config's, or else 100 for the first version. */
export function versionWeights(model: TrafficSplit): Record<string, number> {
  return Object.fromEntries(
    model.versions.map((version, index) => [version.name, model.traffic.weights ? (model.traffic.weights[version.name] ?? 0) : index === 0 ? 100 : 0]),
  );
}

/**
 * The share of the model's peak a version must be able to serve: its weight, plus, for the
 * shadow, its percentage of the primary's share, and, for the fallback, the primary's whole share
 * (it stands in when the primary fails at peak).
 */
export function versionShare(model: TrafficSplit, version: string): number {
  const weights = versionWeights(model);
  const primary = weights[model.versions[0].name] / 100;
  const shadow = model.traffic.shadow?.version === version ? (primary * model.traffic.shadow.percent) / 100 : 0;
  const fallback = model.traffic.fallback === version ? primary : 0;
  return (weights[version] ?? 0) / 100 + shadow + fallback;
}

/** One version's line in a capacity report. */
export interface ServingLine extends ServingCapacity {
  /** What is measured, e.g. `model fraud-scorer version v7`. */
  readonly subject: string;
  /** Where the version's capacity is set in config. */
  readonly path: (string | number)[];
  /** The version's autoscaling.maxReplicas. */
  readonly maxReplicas: number;
  /** The version's podRequestsPerSecond. */
  readonly podRequestsPerSecond: number;
}

/** Every version's serving capacity at maxReplicas against its share of the model's peak, in config order. */
export function servingLines(config: {
  readonly teams: readonly {
    readonly models: readonly {
      readonly name: string;
      readonly capacity: { readonly peakRequestsPerSecond: number };
      readonly versions: readonly (Omit<ServingSizing, 'peakRequestsPerSecond'> & { readonly name: string })[];
      readonly traffic: TrafficSplit['traffic'];
    }[];
  }[];
}): ServingLine[] {
  return config.teams.flatMap((team, teamIndex) =>
    team.models.flatMap((model, modelIndex) =>
      model.versions.map((version, versionIndex) => ({
        subject: `model ${model.name} version ${version.name}`,
        path: ['teams', teamIndex, 'models', modelIndex, 'versions', versionIndex, 'autoscaling', 'maxReplicas'],
        maxReplicas: version.autoscaling.maxReplicas,
        podRequestsPerSecond: version.podRequestsPerSecond,
        ...servingCapacity({ ...version, peakRequestsPerSecond: model.capacity.peakRequestsPerSecond * versionShare(model, version.name) }),
      })),
    ),
  );
}
