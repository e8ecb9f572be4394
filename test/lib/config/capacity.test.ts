import { capacityLines, peakDemand, servingCapacity, servingLines } from '../../../lib/config/capacity';
import { capacityReport } from '../../../scripts/capacity';
import { committedEnvironments } from '../../helpers/app';

const model = (maxReplicas: number, gpus?: number) => ({
  resources: { cpuRequestMillicores: 500, memoryRequestMiB: 1024 },
  autoscaling: { maxReplicas },
  ...(gpus ? { gpu: { pool: 'inference', count: gpus } } : {}),
});

describe('capacity', () => {
  test('counts every model at maxReplicas plus one rolling-update pod', () => {
    expect(peakDemand([model(4), model(2, 2)])).toEqual({ pods: 8, cpu: 4, memoryGiB: 8, gpus: 6 });
  });

  test('sets each team, GPU pool and the general pool against its ceiling, with the field that sets it', () => {
    const lines = capacityLines({
      teams: [{ name: 'growth', quota: { pods: 10, cpu: 4, memoryGiB: 8, gpus: 6 }, models: [model(4), model(2, 2)] }],
      gpuPools: [{ name: 'inference', gpuLimit: 4, cpuLimit: 64 }],
      cluster: { nodePool: { cpuLimit: 8, memoryLimitGiB: 32 } },
      mlflow: { replicas: 2, cpuMillicores: 500, memoryMiB: 2048 },
    });
    expect(lines).toContainEqual({ subject: 'team growth', path: ['teams', 0, 'quota', 'gpus'], peak: 6, limit: 6 });
    expect(lines).toContainEqual({ subject: 'GPU pool inference', path: ['gpuPools', 0, 'gpuLimit'], peak: 6, limit: 4 });
    expect(lines).toContainEqual({ subject: 'general pool', path: ['cluster', 'nodePool', 'cpuLimit'], peak: 2.5 + 1.5, limit: 8 });
  });

  test('sets what a model serves at maxReplicas against 1.3 × its peak, with the smallest maxReplicas that suffices', () => {
    const serving = (maxReplicas: number, peakRequestsPerSecond: number, podRequestsPerSecond: number) =>
      servingCapacity({ autoscaling: { maxReplicas }, capacity: { peakRequestsPerSecond, podRequestsPerSecond } });
    expect(serving(8, 1000, 150)).toEqual({ peak: 1000, required: 1300, capacity: 1200, headroom: 0.2, minimumMaxReplicas: 9, sufficient: false });
    expect(serving(24, 1000, 150)).toMatchObject({ capacity: 3600, headroom: 2.6, minimumMaxReplicas: 9, sufficient: true });
    expect(serving(10, 1000, 130)).toMatchObject({ required: 1300, capacity: 1300, minimumMaxReplicas: 10, sufficient: true });
    expect(serving(4, 6, 1.95)).toMatchObject({ required: 7.8, capacity: 7.8, minimumMaxReplicas: 4, sufficient: true });
  });

  test('gives every model a serving line with the field that sets it', () => {
    const capacity = (peakRequestsPerSecond: number) => ({ peakRequestsPerSecond, podRequestsPerSecond: 150 });
    const lines = servingLines({
      teams: [
        { models: [{ name: 'churn', autoscaling: { maxReplicas: 4 }, capacity: capacity(100) }] },
        { models: [{ name: 'tagger', autoscaling: { maxReplicas: 2 }, capacity: capacity(300) }] },
      ],
    });
    expect(lines).toEqual([
      expect.objectContaining({ subject: 'model churn', path: ['teams', 0, 'models', 0, 'capacity'], peak: 100, capacity: 600, maxReplicas: 4, podRequestsPerSecond: 150, headroom: 5 }),
      expect.objectContaining({ subject: 'model tagger', path: ['teams', 1, 'models', 0, 'capacity'], peak: 300, capacity: 300, headroom: 0, sufficient: false }),
    ]);
  });

  test('npm run capacity reports every team of every committed environment', () => {
    const report = capacityReport(committedEnvironments());
    for (const environment of committedEnvironments()) {
      expect(report).toMatch(new RegExp(`^${environment.name}$`, 'm'));
      for (const team of environment.teams) {
        expect(report).toMatch(new RegExp(`team ${team.name} +cpu +peak`));
      }
    }
    expect(report).toMatch(/general pool +cpuLimit/);
  });

  test("npm run capacity shows each committed model's peak, its capacity at maxReplicas and the headroom", () => {
    for (const environment of committedEnvironments()) {
      const report = capacityReport([environment]);
      for (const model of environment.teams.flatMap((team) => team.models)) {
        const { maxReplicas } = model.autoscaling;
        const { peakRequestsPerSecond: peak, podRequestsPerSecond: perPod } = model.capacity;
        const headroom = Math.round(((maxReplicas * perPod) / peak - 1) * 100);
        expect(report).toMatch(
          new RegExp(`model ${model.name} +capacity +peak +${peak} of +${maxReplicas * perPod} req/s at maxReplicas \\(${maxReplicas} × ${perPod}\\) +headroom ${headroom} %, at least 30 %`),
        );
      }
    }
  });
});
