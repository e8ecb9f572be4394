import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { GPU_RESOURCE, NODE_POOL_LABEL } from '../../../charts/cluster-config-chart';
import { BATCH_SCRIPT_PATH } from '../../../charts/lib/batch-inference-cron-job';
import { MLFLOW_CLIENT_HOME, MLFLOW_IN_CLUSTER_URL } from '../../../charts/lib/mlflow-credentials-init';
import {
  PROMOTE_CONTAINER,
  REPORT_CONTAINER,
  TRAIN_CONTAINER,
  TRAINING_INPUT_VARIABLE,
  TrainingCronJob,
  TrainingCronJobProps,
} from '../../../charts/lib/training-cron-job';
import { scheduledJobPods } from '../../../lib/config/scheduled-job-sizing';
import { chartTestApp } from '../../helpers/chart-app';
import { envOf, findObject, KubeObject } from '../../helpers/kube-objects';
import { validateKubernetesObjects } from '../../helpers/kubernetes-schema';
import { renderedPodRequests } from '../../helpers/pod-requests';
import { RESTRICTED_CONTAINER_SECURITY_CONTEXT } from '../../helpers/hardening';

const LABELS = { 'app.kubernetes.io/name': 'fraud-scorer-training', 'mlops.platform/model': 'fraud-scorer' };
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:mlops/prod/mlflow/teams/fraud-AbCdEf';

const PROPS: TrainingCronJobProps = {
  name: 'fraud-scorer-training',
  namespace: 'fraud',
  labels: LABELS,
  schedule: '0 2 * * *',
  timeZone: 'Europe/Dublin',
  startingDeadlineMinutes: 15,
  timeoutMinutes: 180,
  retries: 2,
  platformImage: '111111111111.dkr.ecr.eu-west-1.amazonaws.com/cdk-assets:platform',
  trainingImage: '111111111111.dkr.ecr.eu-west-1.amazonaws.com/mlops/prod/models/fraud-scorer:train-2026.11.1',
  command: ['python', '/app/train.py', '--rows', 'all'],
  mlflowSecretArn: SECRET_ARN,
  experiment: 'fraud/fraud-scorer',
  registeredModel: 'fraud-scorer',
  metric: 'val_auc',
  direction: 'max',
  minImprovement: 0.005,
  promotionExperiment: 'fraud/promotions',
  region: 'eu-west-1',
  metricNamespace: 'MLOpsPlatform/Training/mlops-prod/fraud-scorer',
  metricDimensions: { Environment: 'mlops-prod', Model: 'fraud-scorer' },
  resources: { cpuRequestMillicores: 2000, cpuLimitMillicores: 4000, memoryRequestMiB: 8192, memoryLimitMiB: 8192 },
  workVolumeGiB: 50,
};

function render(props: Partial<TrainingCronJobProps> = {}): KubeObject[] {
  const chart = new Chart(chartTestApp(), 'training', { disableResourceNameHashes: true });
  new TrainingCronJob(chart, 'Job', { ...PROPS, ...props });
  return chart.toJson() as KubeObject[];
}

function podOf(objects: KubeObject[]): { job: k8s.JobSpec; template: k8s.PodTemplateSpec; pod: k8s.PodSpec } {
  const job = findObject<k8s.CronJobSpec>(objects, 'CronJob').spec.jobTemplate.spec as k8s.JobSpec;
  return { job, template: job.template, pod: job.template.spec as k8s.PodSpec };
}

describe('TrainingCronJob', () => {
  const objects = render();
  const cronJob = findObject<k8s.CronJobSpec>(objects, 'CronJob');
  const { job, template, pod } = podOf(objects);
  const [credentials, train, promote] = pod.initContainers ?? [];
  const [report] = pod.containers;

  test('is a service account and a CronJob of the given name, labels and namespace, whose pods run as that account without a Kubernetes token', () => {
    expect(objects.map((object) => [object.kind, object.metadata.name, object.metadata.namespace, object.metadata.labels])).toEqual([
      ['ServiceAccount', 'fraud-scorer-training', 'fraud', LABELS],
      ['CronJob', 'fraud-scorer-training', 'fraud', LABELS],
    ]);
    expect(findObject(objects, 'ServiceAccount')).toMatchObject({ automountServiceAccountToken: false });
    expect(pod.serviceAccountName).toBe('fraud-scorer-training');
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  test('runs on the schedule in its time zone, never two runs at once, skipping a run it cannot start within the deadline', () => {
    expect(cronJob.spec).toMatchObject({ schedule: '0 2 * * *', timeZone: 'Europe/Dublin', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 900 });
  });

  test('fails a run after the configured timeout, its retries included, each retry a new pod once the failed one has terminated', () => {
    expect(job.activeDeadlineSeconds).toBe(180 * 60);
    expect(job.backoffLimit).toBe(2);
    expect(job).toMatchObject({ podReplacementPolicy: 'Failed' });
    expect(pod.restartPolicy).toBe('Never');
  });

  test('writes the credentials, trains, promotes, then reports, in turn', () => {
    expect([...(pod.initContainers ?? []), ...pod.containers].map((container) => container.name)).toEqual([
      'mlflow-credentials',
      TRAIN_CONTAINER,
      PROMOTE_CONTAINER,
      REPORT_CONTAINER,
    ]);
    expect([credentials.image, train.image, promote.image, report.image]).toEqual([PROPS.platformImage, PROPS.trainingImage, PROPS.platformImage, PROPS.platformImage]);
    expect(credentials.args).toEqual(['write-credentials']);
    expect(envOf(credentials).MLFLOW_CREDENTIALS_SECRET_ARN).toBe(SECRET_ARN);
    expect(train.command).toEqual(['python', '/app/train.py', '--rows', 'all']);
    expect(promote.args).toEqual(['promote']);
    expect(report.command).toEqual(['python', BATCH_SCRIPT_PATH, 'succeeded']);
  });

  test("tells the team's code the tracking server, the HOME holding its login, the experiment and the registered model, and no password", () => {
    expect(envOf(train)).toEqual({
      HOME: MLFLOW_CLIENT_HOME,
      MLFLOW_TRACKING_URI: MLFLOW_IN_CLUSTER_URL,
      MLFLOW_EXPERIMENT_NAME: 'fraud/fraud-scorer',
      MLFLOW_REGISTERED_MODEL_NAME: 'fraud-scorer',
      PYTHONDONTWRITEBYTECODE: '1',
    });
    expect(train.volumeMounts).toEqual([
      { name: 'mlflow-credentials', mountPath: MLFLOW_CLIENT_HOME },
      { name: 'scratch', mountPath: '/tmp' },
    ]);
    expect(JSON.stringify(objects)).not.toMatch(/PASSWORD/);
  });

  test("tells the gate the model, metric, direction, minimum improvement and the team's own decisions experiment", () => {
    expect(envOf(promote)).toEqual({
      HOME: MLFLOW_CLIENT_HOME,
      MLFLOW_TRACKING_URI: MLFLOW_IN_CLUSTER_URL,
      PROMOTION_REGISTERED_MODEL: 'fraud-scorer',
      PROMOTION_METRIC: 'val_auc',
      PROMOTION_DIRECTION: 'max',
      PROMOTION_MIN_IMPROVEMENT: '0.005',
      PROMOTION_EXPERIMENT: 'fraud/promotions',
    });
    expect(promote.volumeMounts).toContainEqual({ name: 'mlflow-credentials', mountPath: MLFLOW_CLIENT_HOME });
  });

  test('tells the report step the metric namespace and dimensions', () => {
    expect(envOf(report)).toEqual({
      AWS_REGION: 'eu-west-1',
      BATCH_METRIC_NAMESPACE: 'MLOpsPlatform/Training/mlops-prod/fraud-scorer',
      BATCH_METRIC_DIMENSIONS: 'Environment=mlops-prod,Model=fraud-scorer',
    });
  });

  test("keeps the pod's AWS credentials out of the team's code and the gate when the job has no input", () => {
    expect(template.metadata?.annotations).toEqual({ 'eks.amazonaws.com/skip-containers': 'train,promote' });
  });

  test("with an input, gives the team's code the pod's AWS credentials, the folder as TRAINING_INPUT and the region, and still none to the gate", () => {
    const rendered = podOf(render({ input: 's3://fraud-data/training/daily/' }));
    const [, trainStep, promoteStep] = rendered.pod.initContainers ?? [];
    expect(rendered.template.metadata?.annotations).toEqual({ 'eks.amazonaws.com/skip-containers': 'promote' });
    expect(envOf(trainStep)).toEqual({
      ...envOf(train),
      [TRAINING_INPUT_VARIABLE]: 's3://fraud-data/training/daily/',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
    });
    expect(envOf(promoteStep)).toEqual(envOf(promote));
  });

  test('hardens every step: non-root, read-only root, no capability; the login in memory, the scratch volume the configured size', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    for (const container of [credentials, train, promote, report]) {
      expect(container.securityContext).toMatchObject(RESTRICTED_CONTAINER_SECURITY_CONTEXT);
    }
    expect(pod.volumes).toEqual([
      { name: 'mlflow-credentials', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      { name: 'scratch', emptyDir: { sizeLimit: '50Gi' } },
    ]);
  });

  test('gives the training step the configured requests and limits and node disk the size of the scratch volume, on the general pool', () => {
    expect(train.resources).toEqual({
      requests: { 'cpu': '2000m', 'memory': '8192Mi', 'ephemeral-storage': '50Gi' },
      limits: { cpu: '4000m', memory: '8192Mi' },
    });
    expect(pod.nodeSelector).toEqual({ [NODE_POOL_LABEL]: 'general' });
    expect(pod.tolerations).toBeUndefined();
  });

  test('gives the training step alone its GPUs, with the pool\'s toleration and node selector', () => {
    const rendered = podOf(render({ gpu: { pool: 'training-spot', count: 2 } })).pod;
    const [credentialsStep, trainStep, promoteStep] = rendered.initContainers ?? [];
    expect(trainStep.resources?.requests).toMatchObject({ [GPU_RESOURCE]: 2 });
    expect(trainStep.resources?.limits).toMatchObject({ [GPU_RESOURCE]: 2 });
    for (const step of [credentialsStep, promoteStep, rendered.containers[0]]) {
      expect(step.resources?.limits).not.toHaveProperty(GPU_RESOURCE);
    }
    expect(rendered.tolerations).toEqual([{ key: GPU_RESOURCE, operator: 'Exists', effect: 'NoSchedule' }]);
    expect(rendered.nodeSelector).toEqual({ [NODE_POOL_LABEL]: 'training-spot' });
  });

  test('requests, as a pod, what config validation counts for the training job, on the pool it counts it against', () => {
    // The configured step, then one smaller than the promotion gate and the report.
    for (const resources of [PROPS.resources, { cpuRequestMillicores: 20, cpuLimitMillicores: 40, memoryRequestMiB: 256, memoryLimitMiB: 256 }]) {
      for (const gpu of [undefined, { pool: 'training-spot', count: 2 }]) {
        const counted = scheduledJobPods({ versions: [{ resources, gpu: undefined }], training: { resources, gpu } });
        expect(counted).toEqual([{ job: 'training', ...renderedPodRequests(podOf(render({ resources, gpu })).pod) }]);
      }
    }
  });

  test('renders objects that match the Kubernetes schemas', () => {
    expect(() => validateKubernetesObjects(render({ gpu: { pool: 'training-spot', count: 1 }, input: 's3://fraud-data/training/' }))).not.toThrow();
  });
});
