// The arithmetic of `npm run cost`: an environment's monthly cost from its config and a price table,
// with the config field that changes each line. Pure functions, so tests check them on fixtures.
import { z } from 'zod';
import { DEFAULT_ROUTER_REPLICAS, hasRouter, ROUTER_RESOURCES } from '../../lib/config/router-sizing';
import { EnvironmentConfig } from '../../lib/config/schema';

const price = z.strictObject({
  usd: z.number().nonnegative(),
  source: z.string().url(),
  verified: z.boolean(),
  note: z.string().optional(),
});

const instancePrice = price.extend({
  vcpu: z.number().positive(),
  memoryGiB: z.number().positive(),
  gpus: z.number().int().positive().optional(),
});

const regionPrices = z.strictObject({
  natGatewayHour: price,
  interfaceEndpointAzHour: price,
  eksClusterHour: price,
  autoModeFeeShare: price,
  albHour: price,
  albLcuHour: price,
  rdsGp3GbMonth: price,
  rdsInstanceHour: z.record(z.string(), price),
  ec2InstanceHour: z.record(z.string(), instancePrice),
});

/** The committed price table's shape: one date and source per table, a source per price. */
export const priceTableSchema = z.strictObject({
  date: z.iso.date(),
  currency: z.literal('USD'),
  hoursPerMonth: z.number().positive(),
  note: z.string(),
  regions: z.record(z.string(), regionPrices),
});

export type PriceTable = z.infer<typeof priceTableSchema>;
type RegionPrices = z.infer<typeof regionPrices>;
type InstancePrice = z.infer<typeof instancePrice>;

/** Share of an instance's vCPUs and memory that pods can request; the rest is the kubelet's and the OS's. */
export const ALLOCATABLE_SHARE = 0.9;
/** Load balancer capacity units billed per hour: the minimum a mostly idle ALB uses. */
export const ALB_LCUS = 1;
/** How old the price table may get before the report warns, in months. */
export const STALE_AFTER_MONTHS = 6;

/** One line of the estimate: what it is, the config field that changes it, and its monthly cost. */
export interface CostLine {
  readonly item: string;
  /** The config field whose change moves this line. */
  readonly field: string;
  /** Monthly cost with every model at `autoscaling.minReplicas`. */
  readonly monthlyAtMin: number;
  /** Monthly cost with every model at `autoscaling.maxReplicas`. */
  readonly monthlyAtMax: number;
  /** How the number was reached. */
  readonly detail: string;
}

/** An environment's estimate. */
export interface CostEstimate {
  readonly environment: string;
  readonly region: string;
  readonly lines: CostLine[];
  readonly totalAtMin: number;
  readonly totalAtMax: number;
  /** Prices the estimate used that were not confirmed at their source. */
  readonly unverified: string[];
}

/** A price the table lacks for what the config asks; the message names both. */
export class MissingPriceError extends Error {}

/** Whether the table is older than {@link STALE_AFTER_MONTHS} on `today`. */
export function isStale(table: PriceTable, today: Date): boolean {
  const limit = new Date(`${table.date}T00:00:00Z`);
  limit.setUTCMonth(limit.getUTCMonth() + STALE_AFTER_MONTHS);
  return today.getTime() > limit.getTime();
}

/** Pods one pool must hold: how many, and each one's CPU (vCPUs), memory (GiB) and GPUs. */
interface PodSet {
  readonly count: number;
  readonly cpu: number;
  readonly memoryGiB: number;
  readonly gpus: number;
}

/** The cheapest priced instance type among `candidates` for `pods`, bin-packed by their total requests. */
function cheapestPacking(candidates: [string, InstancePrice][], pods: PodSet[]): { type: string; nodes: number; hourly: number } | undefined {
  const cpu = pods.reduce((sum, pod) => sum + pod.count * pod.cpu, 0);
  const memory = pods.reduce((sum, pod) => sum + pod.count * pod.memoryGiB, 0);
  const options = candidates
    .filter(([, instance]) => pods.every((pod) => pod.count === 0 || (pod.cpu <= instance.vcpu * ALLOCATABLE_SHARE && pod.memoryGiB <= instance.memoryGiB * ALLOCATABLE_SHARE)))
    .map(([type, instance]) => {
      const nodes = Math.max(Math.ceil(cpu / (instance.vcpu * ALLOCATABLE_SHARE)), Math.ceil(memory / (instance.memoryGiB * ALLOCATABLE_SHARE)));
      return { type, nodes, hourly: nodes * instance.usd };
    })
    .sort((a, b) => a.hourly - b.hourly || a.type.localeCompare(b.type));
  return options[0];
}

const family = (type: string) => type.split('.')[0];

/** The general pool's pods: MLflow's replicas, every CPU model's at `replicas`, and the routers, which do not scale. */
function generalPods(config: EnvironmentConfig, replicas: 'minReplicas' | 'maxReplicas'): PodSet[] {
  const mlflow = { count: config.mlflow.replicas, cpu: config.mlflow.cpuMillicores / 1000, memoryGiB: config.mlflow.memoryMiB / 1024, gpus: 0 };
  const models = config.teams.flatMap((team) =>
    team.models
      .flatMap((model) => model.versions)
      .filter((version) => version.gpu === undefined)
      .map((version) => ({
        count: version.autoscaling[replicas],
        cpu: version.resources.cpuRequestMillicores / 1000,
        memoryGiB: version.resources.memoryRequestMiB / 1024,
        gpus: 0,
      })),
  );
  const routers = config.teams.flatMap((team) => team.models).filter((model) => hasRouter(model.traffic)).length;
  const router = { count: routers * DEFAULT_ROUTER_REPLICAS, cpu: ROUTER_RESOURCES.cpuRequestMillicores / 1000, memoryGiB: ROUTER_RESOURCES.memoryRequestMiB / 1024, gpus: 0 };
  return [mlflow, ...models, router];
}

/** Nodes of the general pool: the priced types its categories and generation admit, without GPUs. */
function generalCandidates(config: EnvironmentConfig, prices: RegionPrices): [string, InstancePrice][] {
  const { instanceCategories, minInstanceGeneration } = config.cluster.nodePool;
  return Object.entries(prices.ec2InstanceHour).filter(([type, instance]) => {
    const match = /^([a-z])(\d+)/.exec(family(type));
    return instance.gpus === undefined && match !== null && (instanceCategories as string[]).includes(match[1]) && Number(match[2]) >= minInstanceGeneration;
  });
}

/** The estimate of one environment, every price from `table`. */
export function estimateCost(config: EnvironmentConfig, table: PriceTable): CostEstimate {
  const prices = table.regions[config.region];
  if (prices === undefined) {
    throw new MissingPriceError(`region ${config.region} has no prices in the table (it has ${Object.keys(table.regions).join(', ')})`);
  }
  const month = table.hoursPerMonth;
  const used = new Set<string>();
  const use = (name: string, entry: { usd: number; verified: boolean }) => {
    if (!entry.verified) {
      used.add(name);
    }
    return entry.usd;
  };
  const money = (value: number) => `$${value.toFixed(4).replace(/0+$/, '').replace(/\.$/, '')}`;
  const lines: CostLine[] = [];
  const fixed = (item: string, field: string, monthly: number, detail: string) => lines.push({ item, field, monthlyAtMin: monthly, monthlyAtMax: monthly, detail });

  const nat = use('natGatewayHour', prices.natGatewayHour);
  fixed('NAT gateways', 'network.natGateways', config.network.natGateways * nat * month, `${config.network.natGateways} × ${money(nat)}/h (data processed not included)`);

  const endpointAz = use('interfaceEndpointAzHour', prices.interfaceEndpointAzHour);
  const endpoints = config.network.interfaceEndpoints.length * config.availabilityZones.length;
  fixed(
    'Interface endpoints',
    'network.interfaceEndpoints',
    endpoints * endpointAz * month,
    `${config.network.interfaceEndpoints.length} endpoints × ${config.availabilityZones.length} zones × ${money(endpointAz)}/h (data processed not included; with the s3 endpoint, the VPC's S3 traffic is)`,
  );

  const rdsType = `db.${config.database.instanceType}`;
  const rdsPrice = prices.rdsInstanceHour[rdsType];
  if (rdsPrice === undefined) {
    throw new MissingPriceError(`database.instanceType ${config.database.instanceType}: ${rdsType} has no price for ${config.region} in the table`);
  }
  const copies = config.database.multiAz ? 2 : 1;
  const rdsHour = use(`rdsInstanceHour.${rdsType}`, rdsPrice);
  fixed('RDS instance', 'database.instanceType, database.multiAz', copies * rdsHour * month, `${copies} × ${rdsType} × ${money(rdsHour)}/h`);
  const gp3 = use('rdsGp3GbMonth', prices.rdsGp3GbMonth);
  fixed(
    'RDS storage',
    'database.allocatedStorageGiB, database.multiAz',
    copies * config.database.allocatedStorageGiB * gp3,
    `${copies} × ${config.database.allocatedStorageGiB} GiB gp3 × ${money(gp3)}/GiB-month (grows up to maxAllocatedStorageGiB; backups beyond its size not included)`,
  );

  const eks = use('eksClusterHour', prices.eksClusterHour);
  fixed('EKS control plane', '(one cluster per environment)', eks * month, `1 × ${money(eks)}/h`);

  const albHour = use('albHour', prices.albHour);
  const lcuHour = use('albLcuHour', prices.albLcuHour);
  fixed('Load balancer', 'ingress (one shared ALB)', (albHour + ALB_LCUS * lcuHour) * month, `1 ALB × (${money(albHour)}/h + ${ALB_LCUS} LCU × ${money(lcuHour)}/h)`);

  const feeShare = use('autoModeFeeShare', prices.autoModeFeeShare);
  let feeAtMin = 0;
  let feeAtMax = 0;

  const candidates = generalCandidates(config, prices);
  const atReplicas = (replicas: 'minReplicas' | 'maxReplicas') => {
    const packing = cheapestPacking(candidates, generalPods(config, replicas));
    if (packing === undefined) {
      throw new MissingPriceError(
        `cluster.nodePool.instanceCategories ${config.cluster.nodePool.instanceCategories.join(', ')}: no priced instance type for ${config.region} fits the largest pod`,
      );
    }
    use(`ec2InstanceHour.${packing.type}`, prices.ec2InstanceHour[packing.type]);
    return packing;
  };
  const generalMin = atReplicas('minReplicas');
  const generalMax = atReplicas('maxReplicas');
  lines.push({
    item: 'General nodes',
    field: 'teams[].models[].versions[].autoscaling, teams[].models[].traffic, mlflow.replicas, cluster.nodePool',
    monthlyAtMin: generalMin.hourly * month,
    monthlyAtMax: generalMax.hourly * month,
    detail: `${generalMin.nodes} × ${generalMin.type} to ${generalMax.nodes} × ${generalMax.type}`,
  });
  feeAtMin += generalMin.hourly * feeShare * month;
  feeAtMax += generalMax.hourly * feeShare * month;

  config.gpuPools.forEach((pool, index) => {
    const poolCandidates = Object.entries(prices.ec2InstanceHour).filter(([type, instance]) => instance.gpus !== undefined && (pool.instanceFamilies as string[]).includes(family(type)));
    if (poolCandidates.length === 0) {
      throw new MissingPriceError(`gpuPools[${index}].instanceFamilies ${pool.instanceFamilies.join(', ')}: no priced GPU instance for ${config.region} in the table`);
    }
    const models = config.teams.flatMap((team) =>
      team.models.flatMap((model) => model.versions.map((version) => ({ ...version, name: `${model.name} ${version.name}` }))).filter((version) => version.gpu?.pool === pool.name),
    );
    // A GPU pod takes whole GPUs, so each node holds one pod on the one-GPU sizes priced here.
    const perPod = models.map((model) => {
      const pod = { count: 1, cpu: model.resources.cpuRequestMillicores / 1000, memoryGiB: model.resources.memoryRequestMiB / 1024, gpus: model.gpu?.count ?? 1 };
      const packing = cheapestPacking(poolCandidates.filter(([, instance]) => (instance.gpus ?? 0) >= pod.gpus), [pod]);
      if (packing === undefined) {
        throw new MissingPriceError(`model ${model.name}: no priced instance of gpuPools[${index}].instanceFamilies fits ${pod.gpus} GPUs, ${pod.cpu} vCPUs and ${pod.memoryGiB} GiB`);
      }
      use(`ec2InstanceHour.${packing.type}`, prices.ec2InstanceHour[packing.type]);
      return { model, packing };
    });
    const hourly = (replicas: 'minReplicas' | 'maxReplicas') => perPod.reduce((sum, { model, packing }) => sum + model.autoscaling[replicas] * packing.hourly, 0);
    const [cheapestType, cheapest] = poolCandidates.sort(([, a], [, b]) => a.usd / (a.gpus ?? 1) - b.usd / (b.gpus ?? 1))[0];
    const ceiling = (pool.gpuLimit / (cheapest.gpus ?? 1)) * cheapest.usd * month;
    const spot = pool.capacityType === 'spot' ? '; spot, priced on-demand' : '';
    lines.push({
      item: `GPU pool ${pool.name}`,
      field: `gpuPools[${index}], teams[].models[].versions[].gpu`,
      monthlyAtMin: hourly('minReplicas') * month,
      monthlyAtMax: hourly('maxReplicas') * month,
      detail:
        (perPod.length === 0 ? 'no model; jobs only, billed while they run' : perPod.map(({ model, packing }) => `${model.name} on ${packing.type}`).join(', ')) +
        `${spot}; at gpuLimit ${pool.gpuLimit} on ${cheapestType}: $${Math.round(ceiling)}`,
    });
    feeAtMin += hourly('minReplicas') * feeShare * month;
    feeAtMax += hourly('maxReplicas') * feeShare * month;
  });

  lines.push({
    item: 'EKS Auto Mode fee',
    field: 'cluster.nodePool, gpuPools (follows the nodes)',
    monthlyAtMin: feeAtMin,
    monthlyAtMax: feeAtMax,
    detail: `${Math.round(feeShare * 100)} % of the nodes' on-demand price`,
  });

  return {
    environment: config.name,
    region: config.region,
    lines,
    totalAtMin: lines.reduce((sum, line) => sum + line.monthlyAtMin, 0),
    totalAtMax: lines.reduce((sum, line) => sum + line.monthlyAtMax, 0),
    unverified: [...used].sort(),
  };
}

/** How the estimate counts nodes, printed with every report. */
export const NODE_ASSUMPTIONS = [
  `Nodes: Auto Mode (Karpenter) launches what pending pods request; the estimate packs the requests of MLflow, of each model at its min and max replicas and of the routers of models with a shadow or a fallback onto the cheapest priced instance type the node pool admits, using ${Math.round(ALLOCATABLE_SHARE * 100)} % of its vCPUs and memory. Real nodes are rarely that full, so the node lines are a floor.`,
  'GPU models: one pod per node of the cheapest priced size of the pool\'s families that fits its GPUs, CPU and memory. Pools scale to zero: a pool no model uses costs nothing until a job runs on it.',
  'Not included: data transfer and NAT data processing, load balancer capacity above one LCU, CloudWatch logs and metrics, S3 and ECR storage, KMS keys, Secrets Manager, EBS volumes of the nodes, backups beyond the database size, spot discounts.',
];
