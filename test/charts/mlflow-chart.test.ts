import { chartTestApp } from '../helpers/chart-app';
import { k8s } from 'cdk8s-plus-27';
import {
  MLFLOW_MIGRATION_SERVICE_ACCOUNT,
  MLFLOW_PORT,
  MLFLOW_SERVER_SERVICE_ACCOUNT,
  MlflowChart,
  MlflowChartProps,
} from '../../charts/mlflow-chart';
import { MLFLOW_NAMESPACE } from '../../lib/config/platform-names';
import { envOf, findObject, KubeObject, objectsOfKind } from '../helpers/kube-objects';
import { validateKubernetesObjects } from '../helpers/kubernetes-schema';
import { RESTRICTED_CONTAINER_SECURITY_CONTEXT } from '../helpers/hardening';

const PROPS: MlflowChartProps = {
  image: '111111111111.dkr.ecr.eu-west-1.amazonaws.com/mlflow:abc',
  region: 'eu-west-1',
  databaseHost: 'db.example.internal',
  databasePort: 5432,
  databaseName: 'mlflow',
  databaseSubnetCidrs: ['10.0.200.0/24', '10.0.201.0/24'],
  secrets: {
    databaseMasterSecretArn: 'arn:master',
    databaseAppSecretArn: 'arn:app',
    flaskSecretKeyArn: 'arn:flask',
    adminSecretArn: 'arn:admin',
  },
  artifactsDestination: 's3://artifacts/mlflow',
  hostname: 'mlflow.example.internal',
  replicas: 3,
  workers: 4,
  targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/mlops-dev-mlflow/0123456789abcdef',
  loadBalancerSubnetCidrs: ['10.0.32.0/19', '10.0.64.0/19'],
  awsApiCidrs: ['10.0.255.0/27', '10.0.255.32/27'],
};

const render = (props: Partial<MlflowChartProps> = {}): KubeObject[] =>
  new MlflowChart(chartTestApp(), 'mlflow', { ...PROPS, ...props }).toJson();

describe('MlflowChart', () => {
  const objects = render();
  const server = findObject<k8s.DeploymentSpec>(objects, 'Deployment', 'mlflow');
  const pod = server.spec.template.spec as k8s.PodSpec;
  const container = pod.containers[0];
  const job = findObject<k8s.JobSpec>(objects, 'Job');
  const jobPod = job.spec.template.spec as k8s.PodSpec;

  test('renders as the snapshot', () => {
    expect(objects).toMatchSnapshot();
  });

  test('puts every object in the mlflow namespace, which enforces the restricted Pod Security Standard', () => {
    expect(findObject(objects, 'Namespace').metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    for (const object of objects.filter((candidate) => candidate.kind !== 'Namespace')) {
      expect(object.metadata.namespace).toBe(MLFLOW_NAMESPACE);
    }
  });

  test('runs the configured replicas and rolls out without losing capacity', () => {
    expect(server.spec.replicas).toBe(3);
    expect(server.spec.strategy?.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  });

  test('starts `serve` under its own service account, with every credential named by secret ARN only', () => {
    expect(container.args).toEqual(['serve']);
    expect(pod.serviceAccountName).toBe(MLFLOW_SERVER_SERVICE_ACCOUNT);
    expect(envOf(container)).toMatchObject({
      MLFLOW_DB_APP_SECRET_ID: 'arn:app',
      MLFLOW_FLASK_SECRET_ID: 'arn:flask',
      MLFLOW_ADMIN_SECRET_ID: 'arn:admin',
      MLFLOW_ARTIFACTS_DESTINATION: 's3://artifacts/mlflow',
      MLFLOW_WORKERS: '4',
    });
    expect(envOf(container)).not.toHaveProperty('MLFLOW_DB_MASTER_SECRET_ID');
    expect(container).not.toHaveProperty('envFrom');
  });

  test('allows the load balancer host name and the in-cluster service names, which MLflow checks against the Host header', () => {
    expect(envOf(container).MLFLOW_ALLOWED_HOSTS?.split(',')).toEqual([
      'mlflow.example.internal',
      'mlflow.mlflow.svc.cluster.local',
      'mlflow.mlflow.svc',
      'mlflow.mlflow',
    ]);
  });

  test('probes /health at startup, for readiness and for liveness, with room for the migration at startup', () => {
    for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) {
      expect(probe?.httpGet).toEqual({ path: '/health', port: 'http' });
    }
  });

  test("gives the startup probe more time than the entrypoint waits for the schema, so a waiting pod is not killed", () => {
    const wait = Number(envOf(container).MLFLOW_SCHEMA_WAIT_SECONDS);
    const startup = container.startupProbe ?? {};
    expect(wait).toBeGreaterThanOrEqual(60);
    expect((startup.periodSeconds ?? 10) * (startup.failureThreshold ?? 3)).toBeGreaterThan(wait);
  });

  test("gives up waiting for another migration's lock before the Job's deadline ends it", () => {
    const lockWait = Number(envOf(jobPod.containers[0]).MLFLOW_MIGRATION_LOCK_WAIT_SECONDS);
    expect(lockWait).toBeGreaterThan(0);
    expect(lockWait).toBeLessThan(job.spec.activeDeadlineSeconds ?? 0);
  });

  test('requests and limits CPU and memory', () => {
    expect(container.resources).toEqual({ requests: { cpu: '500m', memory: '2048Mi' }, limits: { cpu: '1000m', memory: '2048Mi' } });
  });

  test.each([
    ['server', () => pod],
    ['migration', () => jobPod],
  ])('hardens the %s pod: non-root, read-only root, no capabilities, RuntimeDefault seccomp, scratch on /tmp', (_name, podSpec) => {
    const spec: k8s.PodSpec = podSpec();
    expect(spec.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      fsGroup: 10001,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec.automountServiceAccountToken).toBe(false);
    for (const each of spec.containers) {
      expect(each.securityContext).toEqual(RESTRICTED_CONTAINER_SECURITY_CONTEXT);
      expect(each.volumeMounts).toEqual([{ name: 'scratch', mountPath: '/tmp' }]);
    }
    expect(spec.volumes).toEqual([{ name: 'scratch', emptyDir: { sizeLimit: '1Gi' } }]);
  });

  test('spreads server pods over zones strictly and over nodes where it can', () => {
    expect(pod.topologySpreadConstraints).toEqual([
      expect.objectContaining({ topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: server.spec.selector.matchLabels } }),
      expect.objectContaining({ topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway' }),
    ]);
  });

  test('lets voluntary disruptions take one server pod at a time', () => {
    expect(findObject(objects, 'PodDisruptionBudget').spec).toEqual({ maxUnavailable: 1, selector: server.spec.selector });
  });

  test("labels the disruption budget as the server's Deployment", () => {
    expect(findObject(objects, 'PodDisruptionBudget').metadata.labels).toEqual(server.metadata.labels);
  });

  test('migrates the schema in a Job, the only pod that may read the master secret', () => {
    expect(job.metadata.name).toMatch(/^mlflow-migrate-[0-9a-f]{12}$/);
    expect(jobPod.serviceAccountName).toBe(MLFLOW_MIGRATION_SERVICE_ACCOUNT);
    expect(jobPod.containers[0].args).toEqual(['migrate']);
    expect(envOf(jobPod.containers[0])).toMatchObject({ MLFLOW_DB_MASTER_SECRET_ID: 'arn:master', MLFLOW_DB_APP_SECRET_ID: 'arn:app' });
    expect(envOf(jobPod.containers[0])).not.toHaveProperty('MLFLOW_ADMIN_SECRET_ID');
  });

  test("names the migration Job by its rendered spec: a new image or environment gets a new Job, a server change none", () => {
    const jobName = (props: Partial<MlflowChartProps>) => findObject<k8s.JobSpec>(render(props), 'Job').metadata.name;
    expect(jobName({})).toBe(job.metadata.name);
    expect(jobName({ image: `${PROPS.image}-next` })).not.toBe(job.metadata.name);
    expect(jobName({ databaseHost: 'other-db.example.internal' })).not.toBe(job.metadata.name);
    expect(jobName({ secrets: { ...PROPS.secrets, databaseMasterSecretArn: 'arn:master-2' } })).not.toBe(job.metadata.name);
    expect(jobName({ replicas: 5, workers: 8, hostname: 'other.example.internal' })).toBe(job.metadata.name);
  });

  test('hashes deploy-time values as what they resolve to', () => {
    const seen: unknown[] = [];
    const resolved = render({ resolve: (value) => (seen.push(value), { stable: 'value' }) });
    expect(seen).toHaveLength(1);
    expect(findObject<k8s.JobSpec>(resolved, 'Job').metadata.name).toBe(
      findObject<k8s.JobSpec>(render({ image: 'other', resolve: () => ({ stable: 'value' }) }), 'Job').metadata.name,
    );
  });

  test('exposes the server through a Service whose selector and target port match the pods', () => {
    const service = findObject<k8s.ServiceSpec>(objects, 'Service');
    expect(service.spec.selector).toEqual(server.spec.template.metadata?.labels);
    expect(service.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    expect(container.ports).toEqual([{ name: 'http', containerPort: MLFLOW_PORT, protocol: 'TCP' }]);
  });

  test('points the server and the migration at the database and port it is given', () => {
    const rendered = render({ databaseName: 'tracking', databasePort: 6543 });
    const pods = [findObject<k8s.DeploymentSpec>(rendered, 'Deployment', 'mlflow'), findObject<k8s.JobSpec>(rendered, 'Job')];
    for (const each of pods) {
      expect(envOf((each.spec.template.spec as k8s.PodSpec).containers[0])).toMatchObject({ MLFLOW_BACKEND_DB: 'tracking', MLFLOW_DB_PORT: '6543' });
    }
    const egress = findObject<k8s.NetworkPolicySpec>(rendered, 'NetworkPolicy', 'mlflow-egress').spec.egress ?? [];
    expect(egress[0].ports).toEqual([{ protocol: 'TCP', port: 6543 }]);
  });

  test('joins the server pods to the configured target group by IP, through a binding beside the Service', () => {
    const binding = findObject<{ targetGroupARN: string; targetType: string; serviceRef: { name: string; port: number } }>(objects, 'TargetGroupBinding');
    expect(binding.metadata.name).toBe('mlflow');
    expect(binding.spec).toEqual({ targetGroupARN: PROPS.targetGroupArn, targetType: 'ip', serviceRef: { name: 'mlflow', port: 80 } });
    expect(objectsOfKind(objects, 'Ingress')).toEqual([]);
  });

  test('binds the target group to a Service of the chart, on a port that Service has', () => {
    const binding = findObject<{ serviceRef: { name: string; port: number } }>(objects, 'TargetGroupBinding');
    const service = findObject<k8s.ServiceSpec>(objects, 'Service', binding.spec.serviceRef.name);
    expect(service.metadata.namespace).toBe(binding.metadata.namespace);
    expect(service.spec.ports?.map((port) => port.port)).toContain(binding.spec.serviceRef.port);
  });

  test('renders objects that match their schemas, the TargetGroupBinding included', () => {
    expect(() => validateKubernetesObjects(objects)).not.toThrow();
  });

  test('admits traffic to the server only from the load balancer subnets and tenant namespaces, on its port', () => {
    const policy = findObject<k8s.NetworkPolicySpec>(objects, 'NetworkPolicy', 'mlflow-server-ingress');
    expect(policy.spec.podSelector).toEqual(server.spec.selector);
    expect(policy.spec.ingress).toEqual([
      {
        from: [
          { ipBlock: { cidr: '10.0.32.0/19' } },
          { ipBlock: { cidr: '10.0.64.0/19' } },
          { namespaceSelector: { matchLabels: { 'mlops.platform/tenant': 'true' } } },
        ],
        ports: [{ protocol: 'TCP', port: MLFLOW_PORT }],
      },
    ]);
  });

  test('lets pods out only to DNS, the database subnets on 5432, HTTPS at the given AWS API addresses and the Pod Identity agent', () => {
    expect(findObject(objects, 'NetworkPolicy', 'default-deny').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    const egressOf = (name: string) => findObject<k8s.NetworkPolicySpec>(objects, 'NetworkPolicy', name).spec.egress ?? [];
    const egress = [...egressOf('allow-dns'), ...egressOf('mlflow-egress')];
    expect(egress).toEqual([
      { ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] },
      { to: [{ ipBlock: { cidr: '10.0.200.0/24' } }, { ipBlock: { cidr: '10.0.201.0/24' } }], ports: [{ protocol: 'TCP', port: 5432 }] },
      { to: [{ ipBlock: { cidr: '10.0.255.0/27' } }, { ipBlock: { cidr: '10.0.255.32/27' } }], ports: [{ protocol: 'TCP', port: 443 }] },
      { to: [{ ipBlock: { cidr: '169.254.170.23/32' } }], ports: [{ protocol: 'TCP', port: 80 }] },
    ]);
  });

  test('holds no Kubernetes Secret: credentials stay in Secrets Manager', () => {
    expect(objects.filter((object) => object.kind === 'Secret')).toEqual([]);
  });
});
