import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { capacityLines, peakDemand } from '../../../lib/config/capacity';
import { committedEnvironment, REPO_ROOT } from '../../helpers/app';

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

  test('npm run capacity reports every committed environment', () => {
    const result = spawnSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/capacity.ts'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(result.status).toBe(0);
    for (const team of committedEnvironment('prod').teams) {
      expect(result.stdout).toMatch(new RegExp(`team ${team.name} +cpu +peak`));
    }
    expect(result.stdout).toMatch(/general pool +cpuLimit/);
  });
});
