import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { GPU_RESOURCE, NODE_POOL_LABEL } from '../../../charts/cluster-config-chart';
import {
  BATCH_SCRIPT_PATH,
  BatchInferenceCronJob,
  BatchInferenceCronJobProps,
  PREDICT_CONTAINER,
  PREDICT_INPUTS,
  PREDICTIONS_FILE,
} from '../../../charts/lib/batch-inference-cron-job';
import { MODEL_PATH } from '../../../charts/lib/model-version-deployment';
import { scheduledJobPods } from '../../../lib/config/scheduled-job-sizing';
import { chartTestApp } from '../../helpers/chart-app';
import { envOf, findObject, KubeObject } from '../../helpers/kube-objects';
import { validateKubernetesObjects } from '../../helpers/kubernetes-schema';
import { renderedPodRequests } from '../../helpers/pod-requests';
import { RESTRICTED_CONTAINER_SECURITY_CONTEXT } from '../../helpers/hardening';

const LABELS = { 'app.kubernetes.io/name': 'fraud-scorer-batch', 'mlops.platform/model': 'fraud-scorer' };

const PROPS: BatchInferenceCronJobProps = {
  name: 'fraud-scorer-batch',
  namespace: 'fraud',
  labels: LABELS,
  schedule: '30 5 * * 1-5',
  timeZone: 'Europe/Dublin',
  startingDeadlineMinutes: 15,
  timeoutMinutes: 90,
  retries: 2,
  platformImage: '111111111111.dkr.ecr.eu-west-1.amazonaws.com/cdk-assets:platform',
  modelImage: '111111111111.dkr.ecr.eu-west-1.amazonaws.com/mlops/prod/models/fraud-scorer:2026.11.1',
  input: 's3://fraud-data/scoring/daily/',
  format: 'csv',
  output: 's3://mlops-prod-artifacts/predictions/fraud-scorer/',
  region: 'eu-west-1',
  metricNamespace: 'MLOpsPlatform/Batch/mlops-prod/fraud-scorer',
  metricDimensions: { Environment: 'mlops-prod', Model: 'fraud-scorer' },
  resources: { cpuRequestMillicores: 1000, cpuLimitMillicores: 2000, memoryRequestMiB: 4096, memoryLimitMiB: 4096 },
  workVolumeGiB: 20,
};

function render(props: Partial<BatchInferenceCronJobProps> = {}): KubeObject[] {
  const chart = new Chart(chartTestApp(), 'batch', { disableResourceNameHashes: true });
  new BatchInferenceCronJob(chart, 'Job', { ...PROPS, ...props });
  return chart.toJson() as KubeObject[];
}

function podOf(objects: KubeObject[]): { job: k8s.JobSpec; template: k8s.PodTemplateSpec; pod: k8s.PodSpec } {
  const job = findObject<k8s.CronJobSpec>(objects, 'CronJob').spec.jobTemplate.spec as k8s.JobSpec;
  return { job, template: job.template, pod: job.template.spec as k8s.PodSpec };
}

describe('BatchInferenceCronJob', () => {
  const objects = render();
  const cronJob = findObject<k8s.CronJobSpec>(objects, 'CronJob');
  const { job, template, pod } = podOf(objects);
  const [fetch, predict] = pod.initContainers ?? [];
  const [upload] = pod.containers;

  test('is a service account and a CronJob of the given name, labels and namespace, whose pods run as that account without a Kubernetes token', () => {
    expect(objects.map((object) => [object.kind, object.metadata.name, object.metadata.namespace, object.metadata.labels])).toEqual([
      ['ServiceAccount', 'fraud-scorer-batch', 'fraud', LABELS],
      ['CronJob', 'fraud-scorer-batch', 'fraud', LABELS],
    ]);
    expect(findObject(objects, 'ServiceAccount')).toMatchObject({ automountServiceAccountToken: false });
    expect(pod.serviceAccountName).toBe('fraud-scorer-batch');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(template.metadata?.labels).toEqual(LABELS);
  });

  test('runs on the schedule in its time zone, never two runs at once, skipping a run it cannot start within the deadline', () => {
    expect(cronJob.spec).toMatchObject({
      schedule: '30 5 * * 1-5',
      timeZone: 'Europe/Dublin',
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 900,
    });
  });

  test('fails a run after the timeout, its retries included, and retries a failed pod, once it has terminated, as a new pod with an empty scratch volume', () => {
    expect(job.activeDeadlineSeconds).toBe(90 * 60);
    expect(job.backoffLimit).toBe(2);
    expect(job).toMatchObject({ podReplacementPolicy: 'Failed' });
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.volumes).toEqual([{ name: 'scratch', emptyDir: { sizeLimit: '20Gi' } }]);
  });

  test('fetches, predicts and uploads in turn: two init containers, then the upload', () => {
    expect([...(pod.initContainers ?? []), ...pod.containers].map((container) => container.name)).toEqual(['fetch', PREDICT_CONTAINER, 'upload']);
    expect([fetch.image, predict.image, upload.image]).toEqual([PROPS.platformImage, PROPS.modelImage, PROPS.platformImage]);
    expect(fetch.command).toEqual(['python', BATCH_SCRIPT_PATH, 'fetch']);
    expect(upload.command).toEqual(['python', BATCH_SCRIPT_PATH, 'upload']);
  });

  test("scores with mlflow models predict in the model's own image, against the model baked into it, in the image's Python", () => {
    expect(predict.command).toEqual(['python', '-m', 'mlflow', 'models', 'predict']);
    expect(predict.args).toEqual([
      '--model-uri', MODEL_PATH,
      '--input-path', PREDICT_INPUTS.csv.file,
      '--output-path', PREDICTIONS_FILE,
      '--content-type', 'csv',
      '--env-manager', 'local',
    ]);
  });

  test.each([
    ['csv', 'csv'],
    ['json', 'json'],
    ['parquet', 'json'],
  ] as const)('hands %s input to the model as %s, in the file the fetch step writes', (format, contentType) => {
    const rendered = podOf(render({ format }));
    const [fetchStep, predictStep] = rendered.pod.initContainers ?? [];
    const args = predictStep.args ?? [];
    expect(args[args.indexOf('--content-type') + 1]).toBe(contentType);
    expect(args[args.indexOf('--input-path') + 1]).toBe(envOf(fetchStep).BATCH_PREDICT_INPUT);
    expect(envOf(fetchStep).BATCH_FORMAT).toBe(format);
  });

  test('tells each platform step where to read and write, and the upload the metric to publish', () => {
    expect(envOf(fetch)).toEqual({
      AWS_REGION: 'eu-west-1',
      BATCH_WORK_DIR: '/tmp/batch',
      BATCH_INPUT: 's3://fraud-data/scoring/daily/',
      BATCH_FORMAT: 'csv',
      BATCH_TIME_ZONE: 'Europe/Dublin',
      BATCH_PREDICT_INPUT: PREDICT_INPUTS.csv.file,
    });
    expect(envOf(upload)).toEqual({
      AWS_REGION: 'eu-west-1',
      BATCH_WORK_DIR: '/tmp/batch',
      BATCH_OUTPUT: 's3://mlops-prod-artifacts/predictions/fraud-scorer/',
      BATCH_PREDICTIONS: PREDICTIONS_FILE,
      BATCH_MODEL_IMAGE: PROPS.modelImage,
      BATCH_METRIC_NAMESPACE: 'MLOpsPlatform/Batch/mlops-prod/fraud-scorer',
      BATCH_METRIC_DIMENSIONS: 'Environment=mlops-prod,Model=fraud-scorer',
    });
  });

  test("keeps the pod's AWS credentials out of the container running the model's code", () => {
    expect(template.metadata?.annotations).toEqual({ 'eks.amazonaws.com/skip-containers': PREDICT_CONTAINER });
    expect(predict.name).toBe(PREDICT_CONTAINER);
    expect(Object.keys(envOf(predict))).not.toContain('AWS_REGION');
  });

  test('hardens the pod like the serving pods: non-root, read-only root, no capability, all steps on the one scratch volume', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    for (const container of [fetch, predict, upload]) {
      expect(container.securityContext).toEqual(RESTRICTED_CONTAINER_SECURITY_CONTEXT);
      expect(container.volumeMounts).toEqual([{ name: 'scratch', mountPath: '/tmp' }]);
    }
  });

  test('gives every step the requests and limits it is given, and asks for node disk the size of the scratch volume', () => {
    for (const container of [fetch, predict, upload]) {
      expect(container.resources).toEqual({
        requests: { 'cpu': '1000m', 'memory': '4096Mi', 'ephemeral-storage': '20Gi' },
        limits: { cpu: '2000m', memory: '4096Mi' },
      });
    }
    expect(pod.nodeSelector).toEqual({ [NODE_POOL_LABEL]: 'general' });
    expect(pod.tolerations).toBeUndefined();
  });

  test("gives a GPU model's predict step alone its GPUs, with the pool's toleration and node selector", () => {
    const rendered = podOf(render({ gpu: { pool: 'inference', count: 1 } })).pod;
    const [fetchStep, predictStep] = rendered.initContainers ?? [];
    expect(predictStep.resources?.requests).toMatchObject({ [GPU_RESOURCE]: 1 });
    expect(predictStep.resources?.limits).toMatchObject({ [GPU_RESOURCE]: 1 });
    for (const step of [fetchStep, rendered.containers[0]]) {
      expect(step.resources?.limits).not.toHaveProperty(GPU_RESOURCE);
    }
    expect(rendered.tolerations).toEqual([{ key: GPU_RESOURCE, operator: 'Exists', effect: 'NoSchedule' }]);
    expect(rendered.nodeSelector).toEqual({ [NODE_POOL_LABEL]: 'inference' });
  });

  test('requests, as a pod, what config validation counts for the batch job, on the pool it counts it against', () => {
    for (const gpu of [undefined, { pool: 'inference', count: 2 }]) {
      const counted = scheduledJobPods({ versions: [{ resources: PROPS.resources, gpu }], batch: {} });
      expect(counted).toEqual([{ job: 'batch', ...renderedPodRequests(podOf(render({ gpu })).pod) }]);
    }
  });

  test('renders objects that match the Kubernetes schemas', () => {
    expect(() => validateKubernetesObjects(render({ gpu: { pool: 'inference', count: 1 } }))).not.toThrow();
  });
});
