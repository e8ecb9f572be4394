import { CapacityInputs, CapacityLine, capacityLines, DEMAND_RESOURCES, peakDemand, servingCapacity, servingLines, versionShare, versionWeights } from '../../../lib/config/capacity';
import { validateEnvironments } from '../../../lib/config/load';
import { capacityReport } from '../../../scripts/capacity';
import { committedEnvironments, fixtureEnvironment, MINIMAL_ENVIRONMENT, MINIMAL_MODEL, MINIMAL_VERSION } from '../../helpers/app';

/** One model version's sizing: 0.5 vCPU and 1 GiB a pod, and `gpus` GPUs a pod if given. */
const version = (maxReplicas: number, gpus?: number) => ({
  resources: { cpuRequestMillicores: 500, memoryRequestMiB: 1024 },
  autoscaling: { maxReplicas },
  ...(gpus ? { gpu: { pool: 'inference', count: gpus } } : {}),
});

/** A model of `versions`, with a router when `traffic` sets a shadow or a fallback. */
const model = (name: string, versions: ReturnType<typeof version>[], traffic: { shadow?: unknown; fallback?: string } = {}) => ({ name, versions, traffic });

/** An environment of one team, growth, serving `models`, with room to spare everywhere. */
const environment = (models: CapacityInputs['teams'][number]['models']) => ({
  teams: [{ name: 'growth', quota: { pods: 100, cpu: 100, memoryGiB: 100, gpus: 0 }, models }],
  gpuPools: [],
  cluster: { nodePool: { cpuLimit: 100, memoryLimitGiB: 100 } },
  mlflow: { replicas: 2, cpuMillicores: 500, memoryMiB: 2048 },
});

/** The peak of the line whose ceiling is set at `path`. */
const peakAt = (lines: CapacityLine[], ...path: (string | number)[]) => lines.find((line) => line.path.join('.') === path.join('.'))?.peak;

describe('capacity', () => {
  test('counts every version at maxReplicas plus one rolling-update pod', () => {
    expect(peakDemand([version(4), version(2, 2)])).toEqual({ pods: 8, cpu: 4, memoryGiB: 8, gpus: 6 });
  });

  test('sets each team, GPU pool and the general pool against its ceiling, with the field that sets it', () => {
    const lines = capacityLines({
      teams: [{ name: 'growth', quota: { pods: 10, cpu: 4, memoryGiB: 8, gpus: 6 }, models: [model('churn', [version(4)]), model('tagger', [version(2, 2)])] }],
      gpuPools: [{ name: 'inference', gpuLimit: 4, cpuLimit: 64 }],
      cluster: { nodePool: { cpuLimit: 8, memoryLimitGiB: 32 } },
      mlflow: { replicas: 2, cpuMillicores: 500, memoryMiB: 2048 },
    });
    expect(lines).toContainEqual(expect.objectContaining({ subject: 'team growth', path: ['teams', 0, 'quota', 'gpus'], peak: 6, limit: 6 }));
    expect(lines).toContainEqual(expect.objectContaining({ subject: 'GPU pool inference', path: ['gpuPools', 0, 'gpuLimit'], peak: 6, limit: 4 }));
    expect(lines).toContainEqual(expect.objectContaining({ subject: 'general pool', path: ['cluster', 'nodePool', 'cpuLimit'], peak: 2.5 + 1.5, limit: 8 }));
  });

  test('counts every version of a model against its team and pool', () => {
    const lines = capacityLines({
      teams: [{ name: 'growth', quota: { pods: 10, cpu: 4, memoryGiB: 8, gpus: 6 }, models: [model('churn', [version(4), version(2, 2)])] }],
      gpuPools: [{ name: 'inference', gpuLimit: 4, cpuLimit: 64 }],
      cluster: { nodePool: { cpuLimit: 8, memoryLimitGiB: 32 } },
      mlflow: { replicas: 2, cpuMillicores: 500, memoryMiB: 2048 },
    });
    expect(lines).toContainEqual(expect.objectContaining({ subject: 'team growth', path: ['teams', 0, 'quota', 'pods'], peak: 8, limit: 10 }));
    expect(lines).toContainEqual(expect.objectContaining({ subject: 'GPU pool inference', path: ['gpuPools', 0, 'gpuLimit'], peak: 6, limit: 4 }));
  });

  test("counts a model's router, 2 pods plus one rolling-update pod of 0.1 vCPU and 64 MiB, against its team and the general pool", () => {
    const without = capacityLines(environment([model('churn', [version(4), version(2)])]));
    const withRouter = capacityLines(environment([model('churn', [version(4), version(2)], { fallback: 'v2' })]));
    const added = (...path: (string | number)[]) => (peakAt(withRouter, ...path) ?? NaN) - (peakAt(without, ...path) ?? NaN);
    expect(added('teams', 0, 'quota', 'pods')).toBe(3);
    expect(added('teams', 0, 'quota', 'cpu')).toBeCloseTo(0.3);
    expect(added('teams', 0, 'quota', 'memoryGiB')).toBeCloseTo(192 / 1024);
    expect(added('teams', 0, 'quota', 'gpus')).toBe(0);
    expect(added('cluster', 'nodePool', 'cpuLimit')).toBeCloseTo(0.3);
    expect(added('cluster', 'nodePool', 'memoryLimitGiB')).toBeCloseTo(192 / 1024);
    expect(withRouter.find((line) => line.path.join('.') === 'teams.0.quota.pods')?.parts).toEqual([
      { name: 'serving', counts: 'every model at maxReplicas plus one rolling-update pod', peak: 8 },
      { name: 'routers', counts: '2 pods plus one rolling-update pod each: churn', peak: 3 },
    ]);
  });

  test('a shadow needs a router as a fallback does, and a model with neither needs no room for one', () => {
    const plain = capacityLines(environment([model('churn', [version(4), version(2)], {})]));
    const shadowed = capacityLines(environment([model('churn', [version(4), version(2)], { shadow: { version: 'v2', percent: 10 } })]));
    expect(peakAt(plain, 'teams', 0, 'quota', 'pods')).toBe(8);
    expect(peakAt(shadowed, 'teams', 0, 'quota', 'pods')).toBe(11);
    expect(plain.find((line) => line.subject === 'team growth')?.parts.map((part) => part.name)).toEqual(['serving']);
  });

  test('routers run on the general pool, never on a GPU pool', () => {
    const lines = capacityLines({
      ...environment([model('tagger', [version(2, 1), version(1, 1)], { fallback: 'v2' })]),
      gpuPools: [{ name: 'inference', gpuLimit: 8, cpuLimit: 64 }],
    });
    expect(peakAt(lines, 'gpuPools', 0, 'cpuLimit')).toBe(2.5);
    expect(peakAt(lines, 'cluster', 'nodePool', 'cpuLimit')).toBeCloseTo(0.3 + 1.5);
  });

  test("counts each scheduled job's pod once, at its effective request and all at once, against its team and the general pool", () => {
    const jobs = {
      batch: {},
      training: { resources: { cpuRequestMillicores: 2000, memoryRequestMiB: 8192 } },
      drift: { resources: { cpuRequestMillicores: 500, memoryRequestMiB: 2048 } },
    };
    const without = capacityLines(environment([model('churn', [version(4)])]));
    const withJobs = capacityLines(environment([{ ...model('churn', [version(4)]), ...jobs }]));
    const added = (...path: (string | number)[]) => (peakAt(withJobs, ...path) ?? NaN) - (peakAt(without, ...path) ?? NaN);
    // batch 0.5 vCPU and 1 GiB (the version's), training 2 and 8, drift 0.5 and 2.
    expect(added('teams', 0, 'quota', 'pods')).toBe(3);
    expect(added('teams', 0, 'quota', 'cpu')).toBe(3);
    expect(added('teams', 0, 'quota', 'memoryGiB')).toBe(11);
    expect(added('teams', 0, 'quota', 'gpus')).toBe(0);
    expect(added('cluster', 'nodePool', 'cpuLimit')).toBe(3);
    expect(added('cluster', 'nodePool', 'memoryLimitGiB')).toBe(11);
    expect(withJobs.find((line) => line.path.join('.') === 'teams.0.quota.cpu')?.parts).toEqual([
      { name: 'serving', counts: 'every model at maxReplicas plus one rolling-update pod', peak: 2.5 },
      { name: 'scheduled jobs', counts: 'one pod each, all at once: churn batch, churn training, churn drift', peak: 3 },
    ]);
  });

  test("counts GPU training against its team's gpus quota and its GPU pool's GPUs and CPUs, not the general pool", () => {
    const gpuPools = [
      { name: 'inference', gpuLimit: 8, cpuLimit: 64 },
      { name: 'training', gpuLimit: 8, cpuLimit: 64 },
    ];
    const training = { resources: { cpuRequestMillicores: 4000, memoryRequestMiB: 16384 }, gpu: { pool: 'training', count: 2 } };
    const without = capacityLines({ ...environment([model('tagger', [version(2, 1)])]), gpuPools });
    const withTraining = capacityLines({ ...environment([{ ...model('tagger', [version(2, 1)]), training }]), gpuPools });
    const added = (...path: (string | number)[]) => (peakAt(withTraining, ...path) ?? NaN) - (peakAt(without, ...path) ?? NaN);
    expect(added('teams', 0, 'quota', 'gpus')).toBe(2);
    expect(added('teams', 0, 'quota', 'cpu')).toBe(4);
    expect(peakAt(withTraining, 'gpuPools', 1, 'gpuLimit')).toBe(2);
    expect(peakAt(withTraining, 'gpuPools', 1, 'cpuLimit')).toBe(4);
    expect(added('gpuPools', 0, 'gpuLimit')).toBe(0);
    expect(added('cluster', 'nodePool', 'cpuLimit')).toBe(0);
    expect(added('cluster', 'nodePool', 'memoryLimitGiB')).toBe(0);
  });

  test("counts a GPU model's batch job on its first version's GPU pool, with its GPUs", () => {
    const gpuPools = [{ name: 'inference', gpuLimit: 8, cpuLimit: 64 }];
    const without = capacityLines({ ...environment([model('tagger', [version(2, 1)])]), gpuPools });
    const withBatch = capacityLines({ ...environment([{ ...model('tagger', [version(2, 1)]), batch: {} }]), gpuPools });
    const added = (...path: (string | number)[]) => (peakAt(withBatch, ...path) ?? NaN) - (peakAt(without, ...path) ?? NaN);
    expect(added('teams', 0, 'quota', 'gpus')).toBe(1);
    expect(added('gpuPools', 0, 'gpuLimit')).toBe(1);
    expect(added('gpuPools', 0, 'cpuLimit')).toBe(0.5);
    expect(added('cluster', 'nodePool', 'cpuLimit')).toBe(0);
  });

  test("a team without scheduled jobs needs what its versions and routers need, whatever another team's jobs", () => {
    const config = environment([model('churn', [version(4), version(2)], { fallback: 'v2' })]);
    const fraud = { name: 'fraud', quota: config.teams[0].quota, models: [{ ...model('scorer', [version(2)]), batch: {}, drift: { resources: { cpuRequestMillicores: 500, memoryRequestMiB: 2048 } } }] };
    const lines = capacityLines({ ...config, teams: [...config.teams, fraud] });
    expect(DEMAND_RESOURCES.map((resource) => peakAt(lines, 'teams', 0, 'quota', resource))).toEqual([8 + 3, 4 + 0.3, 8 + 192 / 1024, 0]);
    expect(lines.find((line) => line.subject === 'team growth')?.parts.map((part) => part.name)).toEqual(['serving', 'routers']);
    expect(peakAt(lines, 'teams', 1, 'quota', 'pods')).toBe(3 + 2);
  });

  test('sets what a version serves at maxReplicas against 1.3 × its peak, with the smallest maxReplicas that suffices', () => {
    const serving = (maxReplicas: number, peakRequestsPerSecond: number, podRequestsPerSecond: number) =>
      servingCapacity({ autoscaling: { maxReplicas }, peakRequestsPerSecond, podRequestsPerSecond });
    expect(serving(8, 1000, 150)).toEqual({ peak: 1000, required: 1300, capacity: 1200, headroom: 0.2, minimumMaxReplicas: 9, sufficient: false });
    expect(serving(24, 1000, 150)).toMatchObject({ capacity: 3600, headroom: 2.6, minimumMaxReplicas: 9, sufficient: true });
    expect(serving(10, 1000, 130)).toMatchObject({ required: 1300, capacity: 1300, minimumMaxReplicas: 10, sufficient: true });
    expect(serving(4, 6, 1.95)).toMatchObject({ required: 7.8, capacity: 7.8, minimumMaxReplicas: 4, sufficient: true });
  });

  test('a version with no share of the traffic needs one pod and has unbounded headroom', () => {
    expect(servingCapacity({ autoscaling: { maxReplicas: 1 }, peakRequestsPerSecond: 0, podRequestsPerSecond: 50 })).toEqual({
      peak: 0,
      required: 0,
      capacity: 50,
      headroom: Infinity,
      minimumMaxReplicas: 1,
      sufficient: true,
    });
  });

  test('gives every version a serving line with the field that sets it', () => {
    const served = (name: string, maxReplicas: number) => ({ name, autoscaling: { maxReplicas }, podRequestsPerSecond: 150 });
    const lines = servingLines({
      teams: [
        { models: [{ name: 'churn', capacity: { peakRequestsPerSecond: 100 }, versions: [served('v1', 4)], traffic: {} }] },
        { models: [{ name: 'tagger', capacity: { peakRequestsPerSecond: 300 }, versions: [served('v1', 2), served('v2', 1)], traffic: { weights: { v1: 50, v2: 50 } } }] },
      ],
    });
    expect(lines).toEqual([
      expect.objectContaining({ subject: 'model churn version v1', path: ['teams', 0, 'models', 0, 'versions', 0, 'autoscaling', 'maxReplicas'], peak: 100, capacity: 600, maxReplicas: 4, podRequestsPerSecond: 150, headroom: 5 }),
      expect.objectContaining({ subject: 'model tagger version v1', path: ['teams', 1, 'models', 0, 'versions', 0, 'autoscaling', 'maxReplicas'], peak: 150, capacity: 300, headroom: 1 }),
      expect.objectContaining({ subject: 'model tagger version v2', path: ['teams', 1, 'models', 0, 'versions', 1, 'autoscaling', 'maxReplicas'], peak: 150, capacity: 150, headroom: 0, sufficient: false }),
    ]);
  });
});

describe('the capacity rule', () => {
  /** A team whose quota fits its one model's versions at peak (2.5 vCPU) but not a training pod of 1 vCPU beside them. */
  const config = {
    ...MINIMAL_ENVIRONMENT,
    ingress: { servingDomain: 'models.sandbox.example.internal' },
    teams: [{ name: 'growth', quota: { cpu: 3, memoryGiB: 16, pods: 20 }, models: [MINIMAL_MODEL] }],
  };
  const training = { schedule: '0 2 * * *', image: 'train-1', command: ['python', 'train.py'], experiment: 'growth/churn', metric: 'val_auc', direction: 'max' };
  const problemsOf = (settings: Record<string, unknown>) => {
    const result = validateEnvironments([{ file: 'config/sandbox.yaml', text: JSON.stringify(settings) }]);
    return result.ok ? [] : result.problems;
  };

  test('accepts a quota that fits the serving pods of a team without scheduled jobs', () => {
    expect(problemsOf(config)).toEqual([]);
  });

  test('rejects a quota that fits the serving pods but not the scheduled jobs beside them, with what each needs, in one line', () => {
    const withTraining = { ...config, teams: [{ ...config.teams[0], models: [{ ...MINIMAL_MODEL, training }] }] };
    expect(problemsOf(withTraining)).toEqual([
      {
        file: 'config/sandbox.yaml',
        field: 'teams[0].quota.cpu',
        message:
          'must cover what team growth needs at peak (3.5): serving 2.5 (every model at maxReplicas plus one rolling-update pod), ' +
          'scheduled jobs 1 (one pod each, all at once: churn training)',
        received: 3,
      },
    ]);
  });
});

describe('how a model\'s requests spread over its versions', () => {
  const versions = ['v1', 'v2', 'v3', 'v4'].map((name) => ({ name }));

  test('the first version takes every request when no weights are set', () => {
    expect(versionWeights({ versions, traffic: {} })).toEqual({ v1: 100, v2: 0, v3: 0, v4: 0 });
  });

  test('a version the weights leave out takes no requests', () => {
    expect(versionWeights({ versions, traffic: { weights: { v1: 70, v2: 30 } } })).toEqual({ v1: 70, v2: 30, v3: 0, v4: 0 });
  });

  test("a version's share is its weight, plus the shadow's percent of the first version's weight, plus the first version's weight for the fallback", () => {
    const model = { versions, traffic: { weights: { v1: 80, v2: 20 }, shadow: { version: 'v3', percent: 50 }, fallback: 'v4' } };
    expect(versions.map((candidate) => versionShare(model, candidate.name))).toEqual([0.8, 0.2, 0.4, 0.8]);
  });

  test('a fallback that also takes a weight needs both', () => {
    expect(versionShare({ versions, traffic: { weights: { v1: 80, v2: 20 }, fallback: 'v2' } }, 'v2')).toBe(1);
  });
});

describe('npm run capacity', () => {
  test('reports every team of every committed environment', () => {
    const report = capacityReport(committedEnvironments());
    for (const environment of committedEnvironments()) {
      expect(report).toMatch(new RegExp(`^${environment.name}$`, 'm'));
      for (const team of environment.teams) {
        expect(report).toMatch(new RegExp(`team ${team.name} +cpu +peak`));
      }
    }
    expect(report).toMatch(/general pool +cpuLimit/);
  });

  test("shows each committed version's share of its model's peak, its capacity at maxReplicas and the headroom", () => {
    const round = (value: number) => Math.round(value * 100) / 100;
    for (const environment of committedEnvironments()) {
      const report = capacityReport([environment]);
      for (const model of environment.teams.flatMap((team) => team.models)) {
        for (const { name, autoscaling, podRequestsPerSecond: perPod } of model.versions) {
          const peak = model.capacity.peakRequestsPerSecond * versionShare(model, name);
          const { maxReplicas } = autoscaling;
          const headroom = peak > 0 ? `headroom ${Math.round(((maxReplicas * perPod) / peak - 1) * 100)} %, at least 30 %` : 'no share of the traffic';
          expect(report).toMatch(
            new RegExp(`model ${model.name} version ${name} +capacity +peak +${round(peak)} of +${round(maxReplicas * perPod)} req/s at maxReplicas \\(${maxReplicas} × ${perPod}\\) +${headroom}`),
          );
        }
      }
    }
  });

  test('says a version with no share of the traffic has none, rather than a headroom', () => {
    const idle = { ...MINIMAL_VERSION, name: 'v2', alias: 'challenger', autoscaling: { minReplicas: 1, maxReplicas: 1 } };
    const config = fixtureEnvironment({
      ...MINIMAL_ENVIRONMENT,
      ingress: { servingDomain: 'models.sandbox.example.internal' },
      teams: [{ name: 'growth', quota: { cpu: 8, memoryGiB: 16, pods: 20 }, models: [{ ...MINIMAL_MODEL, versions: [MINIMAL_VERSION, idle] }] }],
    });
    expect(capacityReport([config])).toMatch(/model churn version v2 +capacity +peak +0 of +50 req\/s at maxReplicas \(1 × 50\) +no share of the traffic$/m);
  });
});
