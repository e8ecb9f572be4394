import { k8s } from 'cdk8s-plus-27';
import { MLFLOW_PORT, MLFLOW_SERVER_LABELS } from '../../charts/mlflow-chart';
import {
  MLFLOW_USER_SYNC_DEADLINE_SECONDS,
  MLFLOW_USER_SYNC_LABELS,
  MLFLOW_USER_SYNC_SERVER_WAIT_SECONDS,
  MLFLOW_USER_SYNC_SERVICE_ACCOUNT,
  MlflowUserSyncChart,
  MlflowUserSyncChartProps,
} from '../../charts/mlflow-user-sync-chart';
import { MLFLOW_NAMESPACE } from '../../lib/config/platform-names';
import { chartTestApp } from '../helpers/chart-app';
import { envOf, findObject, KubeObject, objectsOfKind } from '../helpers/kube-objects';
import { validateKubernetesObjects } from '../helpers/kubernetes-schema';

const PROPS: MlflowUserSyncChartProps = {
  image: '111111111111.dkr.ecr.eu-west-1.amazonaws.com/mlflow:abc',
  region: 'eu-west-1',
  adminSecretArn: 'arn:admin',
  teams: [
    { team: 'fraud', secretArn: 'arn:team-fraud', registeredModels: ['fraud-scorer'] },
    { team: 'risk', secretArn: 'arn:team-risk', registeredModels: [] },
  ],
  awsApiCidrs: ['10.0.255.0/27', '10.0.255.32/27'],
};

const render = (props: Partial<MlflowUserSyncChartProps> = {}): KubeObject[] =>
  new MlflowUserSyncChart(chartTestApp(), 'mlflow-user-sync', { ...PROPS, ...props }).toJson();

describe('MlflowUserSyncChart', () => {
  const objects = render();
  const job = findObject<k8s.JobSpec>(objects, 'Job');
  const pod = job.spec.template.spec as k8s.PodSpec;
  const [container] = pod.containers;

  test('runs `sync-users` once per rendered spec, under its own service account, in the mlflow namespace', () => {
    expect(job.metadata.name).toMatch(/^mlflow-sync-users-[0-9a-f]{12}$/);
    expect(container.args).toEqual(['sync-users']);
    expect(pod.serviceAccountName).toBe(MLFLOW_USER_SYNC_SERVICE_ACCOUNT);
    expect(findObject(objects, 'ServiceAccount', MLFLOW_USER_SYNC_SERVICE_ACCOUNT)).toMatchObject({ automountServiceAccountToken: false });
    expect(objects.map((object) => object.metadata.namespace)).toEqual(objects.map(() => MLFLOW_NAMESPACE));
  });

  test('is told every team with its secret ARN and served registered models, and the admin secret by ARN, and nothing else', () => {
    expect(envOf(container)).toEqual({
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      MLFLOW_TRACKING_URI: 'http://mlflow.mlflow.svc.cluster.local',
      MLFLOW_ADMIN_SECRET_ID: 'arn:admin',
      MLFLOW_TEAMS: JSON.stringify([
        { team: 'fraud', secretId: 'arn:team-fraud', registeredModels: ['fraud-scorer'] },
        { team: 'risk', secretId: 'arn:team-risk', registeredModels: [] },
      ]),
      MLFLOW_SERVER_WAIT_SECONDS: String(MLFLOW_USER_SYNC_SERVER_WAIT_SECONDS),
    });
    expect(container).not.toHaveProperty('envFrom');
  });

  test('tells a sync with no team an empty list, so that it disables every team user', () => {
    const [alone] = (findObject<k8s.JobSpec>(render({ teams: [] }), 'Job').spec.template.spec as k8s.PodSpec).containers;
    expect(envOf(alone).MLFLOW_TEAMS).toBe('[]');
  });

  test('gets a new name when a team, a model or the image changes, and keeps it otherwise', () => {
    const jobName = (props: Partial<MlflowUserSyncChartProps>) => findObject<k8s.JobSpec>(render(props), 'Job').metadata.name;
    expect(jobName({})).toBe(job.metadata.name);
    expect(jobName({ teams: PROPS.teams.slice(0, 1) })).not.toBe(job.metadata.name);
    expect(jobName({ teams: [PROPS.teams[0], { ...PROPS.teams[1], registeredModels: ['risk-limits'] }] })).not.toBe(job.metadata.name);
    expect(jobName({ image: `${PROPS.image}-next` })).not.toBe(job.metadata.name);
  });

  test('waits for the server well inside its deadline, and keeps the finished Job for its log', () => {
    expect(MLFLOW_USER_SYNC_SERVER_WAIT_SECONDS).toBeLessThan(job.spec.activeDeadlineSeconds ?? 0);
    expect(job.spec.activeDeadlineSeconds).toBe(MLFLOW_USER_SYNC_DEADLINE_SECONDS);
    expect(job.spec.ttlSecondsAfterFinished).toBeUndefined();
    expect(pod.restartPolicy).toBe('Never');
  });

  test('hardens the pod: non-root, read-only root, no capabilities, RuntimeDefault seccomp, limits, no token', () => {
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(container.resources?.limits).toBeDefined();
    expect(container.resources?.requests).toBeDefined();
  });

  test('lets the sync pods out to the server port and the given AWS API addresses only, and the server admit them on its port', () => {
    const egress = findObject<k8s.NetworkPolicySpec>(objects, 'NetworkPolicy', 'mlflow-user-sync-egress');
    expect(egress.spec.podSelector).toEqual({ matchLabels: MLFLOW_USER_SYNC_LABELS });
    expect(egress.spec.egress).toEqual([
      { to: [{ podSelector: { matchLabels: MLFLOW_SERVER_LABELS } }], ports: [{ protocol: 'TCP', port: MLFLOW_PORT }] },
      { to: [{ ipBlock: { cidr: '10.0.255.0/27' } }, { ipBlock: { cidr: '10.0.255.32/27' } }], ports: [{ protocol: 'TCP', port: 443 }] },
      { to: [{ ipBlock: { cidr: '169.254.170.23/32' } }], ports: [{ protocol: 'TCP', port: 80 }] },
    ]);
    const ingress = findObject<k8s.NetworkPolicySpec>(objects, 'NetworkPolicy', 'mlflow-server-ingress-from-user-sync');
    expect(ingress.spec.podSelector).toEqual({ matchLabels: MLFLOW_SERVER_LABELS });
    expect(ingress.spec.ingress).toEqual([{ from: [{ podSelector: { matchLabels: MLFLOW_USER_SYNC_LABELS } }], ports: [{ protocol: 'TCP', port: MLFLOW_PORT }] }]);
    expect(job.spec.template.metadata?.labels).toEqual(MLFLOW_USER_SYNC_LABELS);
  });

  test('renders objects that match their schemas, and no Kubernetes Secret', () => {
    expect(() => validateKubernetesObjects(objects)).not.toThrow();
    expect(objectsOfKind(objects, 'Secret')).toEqual([]);
  });
});
