import { DEFAULT_ROUTER_REPLICAS, hasRouter, ROUTER_RESOURCES } from './router-sizing';

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

function add(a: Demand, b: Demand): Demand {
  return { pods: a.pods + b.pods, cpu: a.cpu + b.cpu, memoryGiB: a.memoryGiB + b.memoryGiB, gpus: a.gpus + b.gpus };
}

/** What a peak counts, in words: `versions` at maxReplicas plus a rolling-update pod, and the routers of `models`. */
function counted(versions: string, models: readonly RoutedModel[]): string {
  const routed = models.filter((model) => hasRouter(model.traffic)).map((model) => model.name);
  const routers =
    routed.length === 0
      ? ''
      : `, and the router${routed.length > 1 ? 's' : ''} of ${routed.join(', ')} at ${DEFAULT_ROUTER_REPLICAS} pods plus one rolling-update pod${routed.length > 1 ? ' each' : ''}`;
  return `${versions} at maxReplicas plus one rolling-update pod${routers}`;
}

/** One line of a capacity report: what something needs at peak against what it is allowed. */
export interface CapacityLine {
  /** What is measured, e.g. `team fraud` or `GPU pool inference`. */
  readonly subject: string;
  /** What the peak counts, in words, e.g. `every model at maxReplicas plus one rolling-update pod`. */
  readonly counts: string;
  /** Where the ceiling is set in config. */
  readonly path: (string | number)[];
  /** Demand at peak. */
  readonly peak: number;
  /** The configured ceiling. */
  readonly limit: number;
}

type ServedVersion = ModelSizing & { readonly gpu?: { readonly pool: string; readonly count: number } };

/** The parts of an environment's config a capacity report reads. */
export interface CapacityInputs {
  readonly teams: readonly {
    readonly name: string;
    readonly quota: Readonly<Record<(typeof DEMAND_RESOURCES)[number], number>>;
    readonly models: readonly (RoutedModel & { readonly versions: readonly ServedVersion[] })[];
  }[];
  readonly gpuPools: readonly { readonly name: string; readonly gpuLimit: number; readonly cpuLimit: number }[];
  readonly cluster: { readonly nodePool: { readonly cpuLimit: number; readonly memoryLimitGiB: number } };
  readonly mlflow: { readonly replicas: number; readonly cpuMillicores: number; readonly memoryMiB: number };
}

/**
 * Every ceiling against what its workloads need at peak: each team's quota against its models'
 * versions and routers, each GPU pool's GPU and CPU limits, and the general pool's limits against
 * the CPU versions, the routers and MLflow. Node pool limits bound node capacity, which exceeds
 * what pods may request, so fitting is necessary, not enough.
 */
export function capacityLines(config: CapacityInputs): CapacityLine[] {
  const versionsOf = (models: readonly { readonly versions: readonly ServedVersion[] }[]) => models.flatMap((model) => model.versions);
  const allModels = config.teams.flatMap((team) => team.models);
  const models = versionsOf(allModels);
  // Routers run on the general pool, beside the CPU versions.
  const general = add(peakDemand(models.filter((model) => !model.gpu)), routerDemand(allModels));
  const { mlflow } = config;
  const generalCounts = `${counted('every CPU model', allModels)}, and MLflow at mlflow.replicas plus one rolling-update pod`;
  return [
    ...config.teams.flatMap((team, index) => {
      const peak = add(peakDemand(versionsOf(team.models)), routerDemand(team.models));
      return DEMAND_RESOURCES.map((resource) => ({
        subject: `team ${team.name}`,
        counts: counted('every model', team.models),
        path: ['teams', index, 'quota', resource],
        peak: peak[resource],
        limit: team.quota[resource],
      }));
    }),
    ...config.gpuPools.flatMap((pool, index) => {
      const peak = peakDemand(models.filter((model) => model.gpu?.pool === pool.name));
      const counts = counted('every model', []);
      return [
        { subject: `GPU pool ${pool.name}`, counts, path: ['gpuPools', index, 'gpuLimit'], peak: peak.gpus, limit: pool.gpuLimit },
        { subject: `GPU pool ${pool.name}`, counts, path: ['gpuPools', index, 'cpuLimit'], peak: peak.cpu, limit: pool.cpuLimit },
      ];
    }),
    {
      subject: 'general pool',
      counts: generalCounts,
      path: ['cluster', 'nodePool', 'cpuLimit'],
      peak: general.cpu + ((mlflow.replicas + 1) * mlflow.cpuMillicores) / 1000,
      limit: config.cluster.nodePool.cpuLimit,
    },
    {
      subject: 'general pool',
      counts: generalCounts,
      path: ['cluster', 'nodePool', 'memoryLimitGiB'],
      peak: general.memoryGiB + ((mlflow.replicas + 1) * mlflow.memoryMiB) / 1024,
      limit: config.cluster.nodePool.memoryLimitGiB,
    },
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
