import * as fs from 'node:fs';
import * as path from 'node:path';
import { estimateCost, isStale, MissingPriceError, PriceTable, priceTableSchema } from '../../../scripts/cost/estimate';
import { committedEnvironments, fixtureEnvironment, MINIMAL_ENVIRONMENT, REPO_ROOT } from '../../helpers/app';

const price = (usd: number, verified = true) => ({ usd, source: 'https://aws.amazon.com/pricing/', verified });
const instance = (usd: number, vcpu: number, memoryGiB: number, gpus?: number) => ({ ...price(usd), vcpu, memoryGiB, ...(gpus ? { gpus } : {}) });

/** Round prices and a 100-hour month, so every expected number below is worked out by hand. */
const TABLE: PriceTable = {
  date: '2026-01-15',
  currency: 'USD',
  hoursPerMonth: 100,
  note: 'fixture',
  regions: {
    'eu-west-1': {
      natGatewayHour: price(1, false),
      interfaceEndpointAzHour: price(0.5),
      eksClusterHour: price(0.1),
      autoModeFeeShare: price(0.1),
      albHour: price(0.2),
      albLcuHour: price(0.05),
      rdsGp3GbMonth: price(0.1),
      rdsInstanceHour: { 'db.t4g.medium': price(0.5) },
      ec2InstanceHour: {
        // Cheapest of all, but category c: the fixture's node pool admits only m.
        'c7i.xlarge': instance(0.5, 4, 8),
        'm7i.xlarge': instance(1, 4, 16),
        'm7i.2xlarge': instance(1.9, 8, 32),
        'g6.xlarge': instance(5, 4, 16, 1),
        'g6e.xlarge': instance(8, 4, 32, 1),
      },
    },
  },
};

/** One version of a model, called `name`, of this size and replica range. */
const version = (name: string, cpuRequestMillicores: number, memoryRequestMiB: number, minReplicas: number, maxReplicas: number, gpu?: { pool: string; count: number }) => ({
  name,
  alias: 'champion',
  imageTag: '1.0.0',
  resources: { cpuRequestMillicores, cpuLimitMillicores: 2 * cpuRequestMillicores, memoryRequestMiB, memoryLimitMiB: memoryRequestMiB },
  ...(gpu ? { gpu } : {}),
  autoscaling: { minReplicas, maxReplicas },
  podRequestsPerSecond: 100,
});

const model = (name: string, versions: ReturnType<typeof version>[]) => ({ name, registeredModel: name, versions, capacity: { peakRequestsPerSecond: 10 } });

/** An environment of its own, so a change to the committed files changes no expected number below. */
const FIXTURE = fixtureEnvironment({
  ...MINIMAL_ENVIRONMENT,
  availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
  network: { natGateways: 2, interfaceEndpoints: ['sts', 'ecrApi'], podHttpsEgress: 'anywhere' },
  database: { instanceType: 't4g.medium', multiAz: true, allocatedStorageGiB: 50 },
  ingress: { servingDomain: 'models.sandbox.example.internal' },
  mlflow: { ...MINIMAL_ENVIRONMENT.mlflow, replicas: 2, cpuMillicores: 1000, memoryMiB: 2048 },
  cluster: { ...MINIMAL_ENVIRONMENT.cluster, nodePool: { cpuLimit: 32, memoryLimitGiB: 128, instanceCategories: ['m'], minInstanceGeneration: 5 } },
  gpuPools: [
    { name: 'inference', instanceFamilies: ['g6'], capacityType: 'on-demand', gpuLimit: 4 },
    { name: 'training', instanceFamilies: ['g6e'], capacityType: 'spot', gpuLimit: 8 },
  ],
  teams: [
    { name: 'fraud', quota: { cpu: 16, memoryGiB: 32, pods: 20 }, models: [model('fraud-scorer', [version('v1', 1000, 2048, 2, 10)])] },
    {
      name: 'vision',
      quota: { cpu: 16, memoryGiB: 64, pods: 10, gpus: 4 },
      models: [model('image-tagger', [version('v3', 2000, 8192, 1, 3, { pool: 'inference', count: 1 })])],
    },
  ],
});

const byItem = (estimate: ReturnType<typeof estimateCost>) =>
  Object.fromEntries(estimate.lines.map((line) => [line.item, [line.monthlyAtMin, line.monthlyAtMax].map((value) => Math.round(value * 1000) / 1000)]));

describe('estimateCost', () => {
  const estimate = estimateCost(FIXTURE, TABLE);

  test('prices each line from the config and the table', () => {
    expect(byItem(estimate)).toEqual({
      'NAT gateways': [200, 200], // 2 gateways × $1 × 100 h
      'Interface endpoints': [300, 300], // 2 endpoints × 3 zones × $0.5 × 100 h
      'RDS instance': [100, 100], // Multi-AZ: 2 × $0.5 × 100 h
      'RDS storage': [10, 10], // Multi-AZ: 2 × 50 GiB × $0.1
      'EKS control plane': [10, 10],
      'Load balancer': [25, 25], // ($0.2 + 1 LCU × $0.05) × 100 h
      // min: MLflow 2 + fraud-scorer 2 pods of 1 vCPU, 2 GiB = 4 vCPUs: one m7i.2xlarge ($1.9) beats two m7i.xlarge ($2).
      // max: 2 + 10 pods = 12 vCPUs: two m7i.2xlarge ($3.8) beat four m7i.xlarge ($4); c7i is not admitted.
      'General nodes': [190, 380],
      'GPU pool inference': [500, 1500], // image-tagger on g6.xlarge ($5): 1 to 3 replicas
      'GPU pool training': [0, 0], // no model: scales to zero
      'EKS Auto Mode fee': [69, 188], // 10 % of ($1.9 + $5) and of ($3.8 + $15), × 100 h
    });
    expect([estimate.totalAtMin, estimate.totalAtMax].map(Math.round)).toEqual([1404, 2713]);
  });

  test('names the config field that changes each line', () => {
    const fields = Object.fromEntries(estimate.lines.map((line) => [line.item, line.field]));
    expect(fields['NAT gateways']).toBe('network.natGateways');
    expect(fields['Interface endpoints']).toBe('network.interfaceEndpoints');
    expect(fields['RDS instance']).toBe('database.instanceType, database.multiAz');
    expect(fields['GPU pool inference']).toBe('gpuPools[0], teams[].models[].versions[].gpu');
    expect(fields['General nodes']).toBe('teams[].models[].versions[].autoscaling, teams[].models[].traffic, mlflow.replicas, cluster.nodePool');
  });

  test('names each GPU model version and the instance it runs on', () => {
    expect(estimate.lines.find((line) => line.item === 'GPU pool inference')?.detail).toBe('image-tagger v3 on g6.xlarge; at gpuLimit 4 on g6.xlarge: $2000');
  });

  test("prices every version's pods, not only the first version's", () => {
    const [fraud, vision] = FIXTURE.teams;
    const canary = { ...fraud.models[0].versions[0], name: 'v2', autoscaling: { ...fraud.models[0].versions[0].autoscaling, minReplicas: 4, maxReplicas: 4 } };
    const shadow = { ...vision.models[0].versions[0], name: 'v4' };
    const config = {
      ...FIXTURE,
      teams: [
        { ...fraud, models: [{ ...fraud.models[0], versions: [...fraud.models[0].versions, canary] }] },
        { ...vision, models: [{ ...vision.models[0], versions: [...vision.models[0].versions, shadow] }] },
      ],
    };
    const withVersions = byItem(estimateCost(config, TABLE));
    // min: MLflow 2 + fraud-scorer v1 2 + v2 4 pods of 1 vCPU, 2 GiB = 8 vCPUs, at 90 % allocatable:
    // three m7i.xlarge ($3) beat two m7i.2xlarge ($3.8). Without v2 it was one m7i.2xlarge ($1.9).
    // max: 2 + 10 + 4 = 16 vCPUs: five m7i.xlarge ($5) beat three m7i.2xlarge ($5.7).
    expect(withVersions['General nodes']).toEqual([300, 500]);
    // Two image-tagger versions on g6.xlarge ($5): 2 to 6 replicas.
    expect(withVersions['GPU pool inference']).toEqual([1000, 3000]);
  });

  test("prices a model's router pods on the general nodes, at their fixed replicas", () => {
    const [fraud] = FIXTURE.teams;
    const [v1] = fraud.models[0].versions;
    const v2 = { ...v1, name: 'v2', resources: { ...v1.resources, cpuRequestMillicores: 3100, cpuLimitMillicores: 6200 }, autoscaling: { ...v1.autoscaling, minReplicas: 1, maxReplicas: 1 } };
    const withTraffic = (traffic: { fallback?: string }) => {
      const scorer = { ...fraud.models[0], versions: [v1, v2], traffic };
      return byItem(estimateCost({ ...FIXTURE, teams: [{ ...fraud, models: [scorer] }, FIXTURE.teams[1]] }, TABLE))['General nodes'];
    };
    // min: MLflow 2 + v1 2 + v2 3.1 = 7.1 vCPUs fit one m7i.2xlarge (7.2 allocatable, $1.9); the router's
    // 2 pods of 0.1 vCPU make 7.3: three m7i.xlarge ($3) beat two m7i.2xlarge ($3.8).
    // max: 2 + 10 + 3.1 = 15.1 and 15.3 vCPUs: five m7i.xlarge ($5) either way.
    expect(withTraffic({})).toEqual([190, 500]);
    expect(withTraffic({ fallback: 'v2' })).toEqual([300, 500]);
  });

  test("shows a pool's ceiling at its gpuLimit, and that spot is priced on-demand", () => {
    const training = estimate.lines.find((line) => line.item === 'GPU pool training');
    expect(training?.detail).toBe('no model; jobs only, billed while they run; spot, priced on-demand; at gpuLimit 8 on g6e.xlarge: $6400');
  });

  test('lists the unverified prices it used', () => {
    expect(estimate.unverified).toEqual(['natGatewayHour']);
  });

  test('refuses a database instance type the table does not price, naming the field', () => {
    const config = { ...FIXTURE, database: { ...FIXTURE.database, instanceType: 'r7g.large' } };
    expect(() => estimateCost(config, TABLE)).toThrow(new MissingPriceError('database.instanceType r7g.large: db.r7g.large has no price for eu-west-1 in the table'));
  });

  test('refuses a region the table does not price', () => {
    expect(() => estimateCost({ ...FIXTURE, region: 'us-east-1' }, TABLE)).toThrow(MissingPriceError);
  });
});

describe('isStale', () => {
  test('warns once the table is more than six months old', () => {
    expect(isStale(TABLE, new Date('2026-07-15T00:00:00Z'))).toBe(false);
    expect(isStale(TABLE, new Date('2026-07-16T00:00:00Z'))).toBe(true);
  });
});

describe('the committed price table', () => {
  const table = priceTableSchema.parse(JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'scripts', 'cost', 'prices.json'), 'utf8')));

  test.each(committedEnvironments().map((config) => [config.name, config] as const))('prices everything %s configures', (_name, config) => {
    expect(estimateCost(config, table).totalAtMax).toBeGreaterThan(0);
  });
});
