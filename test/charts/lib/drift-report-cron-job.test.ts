import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { NODE_POOL_LABEL } from '../../../charts/cluster-config-chart';
import { DRIFT_REPORT_CONTAINER, DRIFT_SCRIPT_PATH, DriftReportCronJob, DriftReportCronJobProps } from '../../../charts/lib/drift-report-cron-job';
import { MLFLOW_CLIENT_HOME, MLFLOW_IN_CLUSTER_URL } from '../../../charts/lib/mlflow-credentials-init';
import { scheduledJobPods } from '../../../lib/config/scheduled-job-sizing';
import { chartTestApp } from '../../helpers/chart-app';
import { envOf, findObject, KubeObject } from '../../helpers/kube-objects';
import { validateKubernetesObjects } from '../../helpers/kubernetes-schema';
import { renderedPodRequests } from '../../helpers/pod-requests';
import { RESTRICTED_CONTAINER_SECURITY_CONTEXT } from '../../helpers/hardening';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:mlops/prod/mlflow/teams/fraud-AbCdEf';

const PROPS: DriftReportCronJobProps = {
  name: 'fraud-scorer-drift',
  namespace: 'fraud',
  labels: { 'app.kubernetes.io/name': 'fraud-scorer-drift', 'mlops.platform/model': 'fraud-scorer' },
  schedule: '0 7 * * *',
  timeZone: 'Europe/Dublin',
  startingDeadlineMinutes: 15,
  timeoutMinutes: 30,
  retries: 1,
  platformImage: '111111111111.dkr.ecr.eu-west-1.amazonaws.com/cdk-assets:platform',
  reportImage: '111111111111.dkr.ecr.eu-west-1.amazonaws.com/cdk-assets:drift-report',
  reference: 's3://fraud-data/training/',
  current: 's3://fraud-data/scoring/daily/',
  format: 'parquet',
  threshold: 0.3,
  model: 'fraud-scorer',
  mlflowSecretArn: SECRET_ARN,
  experiment: 'fraud/drift',
  region: 'eu-west-1',
  metricNamespace: 'MLOpsPlatform/Drift/mlops-prod/fraud-scorer',
  metricDimensions: { Environment: 'mlops-prod', Model: 'fraud-scorer' },
  resources: { cpuRequestMillicores: 500, cpuLimitMillicores: 1000, memoryRequestMiB: 3072, memoryLimitMiB: 3072 },
  workVolumeGiB: 12,
};

function render(props: Partial<DriftReportCronJobProps> = {}): KubeObject[] {
  const chart = new Chart(chartTestApp(), 'drift', { disableResourceNameHashes: true });
  new DriftReportCronJob(chart, 'Job', { ...PROPS, ...props });
  return chart.toJson() as KubeObject[];
}

const objects = render();
const cronJob = findObject<k8s.CronJobSpec>(objects, 'CronJob');
const job = cronJob.spec.jobTemplate.spec as k8s.JobSpec;
const pod = job.template.spec as k8s.PodSpec;

describe('DriftReportCronJob', () => {
  test('renders a service account and a CronJob Kubernetes accepts', () => {
    expect(objects.map((object) => [object.kind, object.metadata.name, object.metadata.namespace])).toEqual([
      ['ServiceAccount', 'fraud-scorer-drift', 'fraud'],
      ['CronJob', 'fraud-scorer-drift', 'fraud'],
    ]);
    expect(() => validateKubernetesObjects(objects)).not.toThrow();
  });

  test('runs once at the schedule, never overlapping, within the timeout and retries, on the general pool', () => {
    expect(cronJob.spec).toMatchObject({ schedule: '0 7 * * *', timeZone: 'Europe/Dublin', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 900 });
    expect(job).toMatchObject({ activeDeadlineSeconds: 1800, backoffLimit: 1, podReplacementPolicy: 'Failed' });
    expect(pod.nodeSelector).toEqual({ [NODE_POOL_LABEL]: 'general' });
    expect(pod.serviceAccountName).toBe('fraud-scorer-drift');
  });

  test('writes the team login first with the MLflow image, then runs drift.py report of the drift report image as the team user with both folders, the threshold and the team experiment', () => {
    expect(pod.initContainers?.map((container) => [container.name, container.image, container.args])).toEqual([['mlflow-credentials', PROPS.platformImage, ['write-credentials']]]);
    expect(envOf(pod.initContainers![0]).MLFLOW_CREDENTIALS_SECRET_ARN).toBe(SECRET_ARN);
    const [report] = pod.containers;
    expect(report.name).toBe(DRIFT_REPORT_CONTAINER);
    expect(report.image).toBe(PROPS.reportImage);
    expect(report.command).toEqual(['python', DRIFT_SCRIPT_PATH, 'report']);
    expect(envOf(report)).toEqual({
      HOME: MLFLOW_CLIENT_HOME,
      MLFLOW_TRACKING_URI: MLFLOW_IN_CLUSTER_URL,
      AWS_REGION: 'eu-west-1',
      DRIFT_REFERENCE: 's3://fraud-data/training/',
      DRIFT_CURRENT: 's3://fraud-data/scoring/daily/',
      DRIFT_FORMAT: 'parquet',
      DRIFT_THRESHOLD: '0.3',
      DRIFT_MODEL: 'fraud-scorer',
      DRIFT_EXPERIMENT: 'fraud/drift',
      DRIFT_WORK_DIR: '/tmp/drift',
      DRIFT_METRIC_NAMESPACE: 'MLOpsPlatform/Drift/mlops-prod/fraud-scorer',
      DRIFT_METRIC_DIMENSIONS: 'Environment=mlops-prod,Model=fraud-scorer',
      DO_NOT_TRACK: '1',
    });
    expect(report.volumeMounts?.map((mount) => mount.mountPath)).toEqual([MLFLOW_CLIENT_HOME, '/tmp']);
  });

  test("names a registered model's run artifact as the reference by the registered model, the alias and the artifact path, in place of a folder", () => {
    const reference = { registeredModel: 'fraud-scorer', alias: 'champion', artifactPath: 'reference/train.parquet' };
    const rendered = findObject<k8s.CronJobSpec>(render({ reference }), 'CronJob').spec.jobTemplate.spec?.template.spec as k8s.PodSpec;
    const env = envOf(rendered.containers[0]);
    expect(env).toMatchObject({ DRIFT_REFERENCE_MODEL: 'fraud-scorer', DRIFT_REFERENCE_ALIAS: 'champion', DRIFT_REFERENCE_ARTIFACT: 'reference/train.parquet', DRIFT_CURRENT: PROPS.current });
    expect(env).not.toHaveProperty('DRIFT_REFERENCE');
  });

  test('sizes the report step from config, the scratch volume included, and hardens it', () => {
    const [report] = pod.containers;
    expect(JSON.parse(JSON.stringify(report.resources))).toEqual({
      requests: { 'cpu': '500m', 'memory': '3072Mi', 'ephemeral-storage': '12Gi' },
      limits: { cpu: '1000m', memory: '3072Mi' },
    });
    expect(report.securityContext).toMatchObject(RESTRICTED_CONTAINER_SECURITY_CONTEXT);
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  test('requests, as a pod, what config validation counts for the drift job', () => {
    // The configured step, then one smaller than the credentials step.
    for (const resources of [PROPS.resources, { cpuRequestMillicores: 20, cpuLimitMillicores: 40, memoryRequestMiB: 64, memoryLimitMiB: 64 }]) {
      const rendered = findObject<k8s.CronJobSpec>(render({ resources }), 'CronJob').spec.jobTemplate.spec?.template.spec as k8s.PodSpec;
      const counted = scheduledJobPods({ versions: [{ resources }], drift: { resources } });
      expect(counted).toEqual([{ job: 'drift', ...renderedPodRequests(rendered) }]);
    }
  });
});
