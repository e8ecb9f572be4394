import { MLFLOW_CREDENTIALS_REQUESTS, scheduledJobPods, TRAINING_PLATFORM_STEP_REQUESTS } from '../../../lib/config/scheduled-job-sizing';

/** A model whose first version requests 0.5 vCPU and 1 GiB a pod, with the GPUs given. */
const versions = (gpu?: { pool: string; count: number }) => [{ resources: { cpuRequestMillicores: 500, memoryRequestMiB: 1024 }, gpu }];

describe('scheduledJobPods', () => {
  test('a model without scheduled jobs has no job pod', () => {
    expect(scheduledJobPods({ versions: versions() })).toEqual([]);
  });

  test("gives one pod per job, in config order, each with the requests of its largest step: the batch steps' are the first version's", () => {
    const pods = scheduledJobPods({
      versions: versions(),
      batch: {},
      training: { resources: { cpuRequestMillicores: 2000, memoryRequestMiB: 8192 } },
      drift: { resources: { cpuRequestMillicores: 500, memoryRequestMiB: 3072 } },
    });
    expect(pods).toEqual([
      { job: 'batch', cpuRequestMillicores: 500, memoryRequestMiB: 1024, gpus: 0, gpuPool: undefined },
      { job: 'training', cpuRequestMillicores: 2000, memoryRequestMiB: 8192, gpus: 0, gpuPool: undefined },
      { job: 'drift', cpuRequestMillicores: 500, memoryRequestMiB: 3072, gpus: 0 },
    ]);
  });

  test('the batch steps take each request the batch settings give, and the first version\'s for the rest', () => {
    expect(scheduledJobPods({ versions: versions(), batch: { resources: { memoryRequestMiB: 4096 } } })).toEqual([
      expect.objectContaining({ cpuRequestMillicores: 500, memoryRequestMiB: 4096 }),
    ]);
  });

  test("a training or drift step smaller than the platform's own steps counts theirs: the larger of the largest init step and the containers' sum", () => {
    const small = { cpuRequestMillicores: 20, memoryRequestMiB: 64 };
    const [training, drift] = scheduledJobPods({ versions: versions(), training: { resources: small }, drift: { resources: small } });
    expect(training).toMatchObject(TRAINING_PLATFORM_STEP_REQUESTS);
    expect(drift).toMatchObject(MLFLOW_CREDENTIALS_REQUESTS);
  });

  test("a GPU model's batch pod and a GPU training pod request their step's GPUs on that step's pool", () => {
    const pods = scheduledJobPods({
      versions: versions({ pool: 'inference', count: 1 }),
      batch: {},
      training: { resources: { cpuRequestMillicores: 4000, memoryRequestMiB: 16384 }, gpu: { pool: 'training', count: 2 } },
    });
    expect(pods).toEqual([
      expect.objectContaining({ job: 'batch', gpus: 1, gpuPool: 'inference' }),
      expect.objectContaining({ job: 'training', cpuRequestMillicores: 4000, gpus: 2, gpuPool: 'training' }),
    ]);
  });
});
