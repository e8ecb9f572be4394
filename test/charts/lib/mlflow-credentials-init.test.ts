import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { MLFLOW_CLIENT_HOME, MLFLOW_IN_CLUSTER_URL, mlflowCredentialsInit, MlflowCredentialsInitProps } from '../../../charts/lib/mlflow-credentials-init';
import { chartTestApp } from '../../helpers/chart-app';
import { envOf, findObject, KubeObject } from '../../helpers/kube-objects';
import { validateKubernetesObjects } from '../../helpers/kubernetes-schema';
import { RESTRICTED_CONTAINER_SECURITY_CONTEXT } from '../../helpers/hardening';

const PROPS: MlflowCredentialsInitProps = { image: '111111111111.dkr.ecr.eu-west-1.amazonaws.com/mlflow:abc', secretArn: 'arn:team-fraud', region: 'eu-west-1' };

/** A team's Job built as the helper says: the init step, and the job's container with its HOME. */
function renderJob(props: Partial<MlflowCredentialsInitProps> = {}): KubeObject[] {
  const chart = new Chart(chartTestApp(), 'job', { disableResourceNameHashes: true });
  const credentials = mlflowCredentialsInit({ ...PROPS, ...props });
  new k8s.KubeJob(chart, 'Job', {
    metadata: { name: 'batch', namespace: 'fraud' },
    spec: {
      template: {
        spec: {
          restartPolicy: 'Never',
          initContainers: [credentials.initContainer],
          containers: [{ name: 'job', image: 'team-image:1', env: credentials.env, volumeMounts: [credentials.mount] }],
          volumes: [credentials.volume],
        },
      },
    },
  });
  return chart.toJson();
}

describe('mlflowCredentialsInit', () => {
  const objects = renderJob();
  const pod = findObject<k8s.JobSpec>(objects, 'Job').spec.template.spec as k8s.PodSpec;
  const [initContainer] = pod.initContainers ?? [];
  const [job] = pod.containers;

  test('runs `write-credentials` of the MLflow image with the team secret by ARN and the shared HOME', () => {
    expect(initContainer.image).toBe(PROPS.image);
    expect(initContainer.args).toEqual(['write-credentials']);
    expect(envOf(initContainer)).toEqual({
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      MLFLOW_CREDENTIALS_SECRET_ARN: 'arn:team-fraud',
      HOME: MLFLOW_CLIENT_HOME,
    });
    expect(initContainer.volumeMounts).toEqual([{ name: 'mlflow-credentials', mountPath: MLFLOW_CLIENT_HOME }]);
  });

  test("gives the job's container that HOME, on the same volume, and the server's in-cluster address", () => {
    expect(job.volumeMounts).toEqual(initContainer.volumeMounts);
    expect(envOf(job)).toEqual({ HOME: MLFLOW_CLIENT_HOME, MLFLOW_TRACKING_URI: MLFLOW_IN_CLUSTER_URL });
    expect(MLFLOW_IN_CLUSTER_URL).toBe('http://mlflow.mlflow.svc.cluster.local');
  });

  test('keeps the login in memory, never on the node disk', () => {
    expect(pod.volumes).toEqual([{ name: 'mlflow-credentials', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } }]);
  });

  test("runs as the job's user, so that the job's container can read the 0600 file, hardened for the restricted standard", () => {
    expect(initContainer.securityContext).toEqual({ ...RESTRICTED_CONTAINER_SECURITY_CONTEXT, runAsUser: 10001, runAsGroup: 10001 });
    const other = findObject<k8s.JobSpec>(renderJob({ runAs: 20002 }), 'Job').spec.template.spec as k8s.PodSpec;
    expect(other.initContainers?.[0].securityContext).toMatchObject({ runAsUser: 20002, runAsGroup: 20002 });
    expect(initContainer.resources).toEqual({ requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } });
  });

  test('fits a Job that matches its schema', () => {
    expect(() => validateKubernetesObjects(objects)).not.toThrow();
  });
});
