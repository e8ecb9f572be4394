import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { modelRouterConfig, ROUTER_PORT } from '../../../charts/lib/model-router-config';
import { ModelRouter, ModelRouterProps, ROUTER_CONFIG_HASH_ANNOTATION } from '../../../charts/lib/model-router';
import { NON_ROOT_ID, SCRATCH_PATH } from '../../../charts/lib/workload-hardening';
import { chartTestApp } from '../../helpers/chart-app';
import { findObject, KubeObject } from '../../helpers/kube-objects';
import { validateKubernetesObjects } from '../../helpers/kubernetes-schema';

const PROPS: ModelRouterProps = {
  name: 'fraud-scorer-router',
  namespace: 'fraud',
  labels: { 'app.kubernetes.io/part-of': 'fraud', 'mlops.platform/model': 'fraud-scorer' },
  image: '111111111111.dkr.ecr.eu-west-1.amazonaws.com/cdk-hnb659fds-container-assets:0123abcd',
  primary: { version: 'v7', host: 'fraud-scorer-v7.fraud.svc.cluster.local', port: 80 },
  fallback: { version: 'v6', host: 'fraud-scorer-v6.fraud.svc.cluster.local', port: 80 },
  shadow: { version: 'v9', host: 'fraud-scorer-v9.fraud.svc.cluster.local', port: 80, percent: 10 },
};

function render(props: Partial<ModelRouterProps> = {}): { objects: KubeObject[]; router: ModelRouter } {
  const chart = new Chart(chartTestApp(), 'serving', { disableResourceNameHashes: true });
  const router = new ModelRouter(chart, 'Router', { ...PROPS, ...props });
  return { objects: chart.toJson() as KubeObject[], router };
}

describe('ModelRouter', () => {
  const { objects, router } = render();
  const deployment = findObject<k8s.DeploymentSpec>(objects, 'Deployment', 'fraud-scorer-router');
  const pod = deployment.spec.template.spec as k8s.PodSpec;
  const [container] = pod.containers;

  test('renders as the snapshot and matches the Kubernetes schemas', () => {
    expect(objects).toMatchSnapshot();
    expect(() => validateKubernetesObjects(objects)).not.toThrow();
  });

  test('is a ConfigMap, a Deployment, a Service and a disruption budget, all named for the router in the model namespace', () => {
    expect(objects.map((object) => [object.kind, object.metadata.name, object.metadata.namespace])).toEqual([
      ['ConfigMap', 'fraud-scorer-router', 'fraud'],
      ['Deployment', 'fraud-scorer-router', 'fraud'],
      ['Service', 'fraud-scorer-router', 'fraud'],
      ['PodDisruptionBudget', 'fraud-scorer-router', 'fraud'],
    ]);
  });

  test('labels every object, the disruption budget included, with the given labels, its selector and its component', () => {
    for (const object of objects) {
      expect(object.metadata.labels).toEqual({ ...PROPS.labels, ...router.selector, 'app.kubernetes.io/component': 'router' });
    }
  });

  test('mounts the ConfigMap holding the rendered nginx.conf where the command reads it', () => {
    const configMap = findObject(objects, 'ConfigMap');
    const data = configMap.data as Record<string, string>;
    expect(Object.values(data)).toEqual([modelRouterConfig({ primary: PROPS.primary, fallback: PROPS.fallback, shadow: PROPS.shadow })]);
    expect(router.config).toBe(Object.values(data)[0]);
    const volume = pod.volumes?.find((candidate) => candidate.configMap?.name === configMap.metadata.name);
    const mount = container.volumeMounts?.find((candidate) => candidate.name === volume?.name);
    expect(mount?.readOnly).toBe(true);
    expect(container.command).toEqual(['nginx']);
    expect(container.args).toEqual(['-c', `${mount?.mountPath}/${Object.keys(data)[0]}`, '-e', 'stderr']);
  });

  test('rolls the pods when the config changes, and only then', () => {
    const hash = (rendered: KubeObject[]) =>
      findObject<k8s.DeploymentSpec>(rendered, 'Deployment').spec.template.metadata?.annotations?.[ROUTER_CONFIG_HASH_ANNOTATION];
    expect(hash(objects)).toMatch(/^[0-9a-f]{64}$/);
    expect(hash(render().objects)).toBe(hash(objects));
    expect(hash(render({ shadow: { ...PROPS.shadow!, percent: 20 } }).objects)).not.toBe(hash(objects));
  });

  test('runs as a non-root user on a read-only root, with only the scratch volume writable', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: NON_ROOT_ID, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(pod.automountServiceAccountToken).toBe(false);
    const writable = pod.volumes?.filter((volume) => volume.emptyDir).map((volume) => volume.name);
    expect(container.volumeMounts?.filter((mount) => writable?.includes(mount.name)).map((mount) => mount.mountPath)).toEqual([SCRATCH_PATH]);
  });

  test('probes /ping on the port nginx listens on', () => {
    expect(container.ports).toEqual([{ name: 'http', containerPort: ROUTER_PORT, protocol: 'TCP' }]);
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      expect(probe?.httpGet).toEqual({ path: '/ping', port: 'http' });
    }
    expect(router.config).toContain(`listen ${ROUTER_PORT} default_server;`);
  });

  test('waits before stopping, so that the load balancer drains it, within its grace period', () => {
    const sleep = Number(container.lifecycle?.preStop?.exec?.command?.[1]);
    expect(container.lifecycle?.preStop?.exec?.command?.[0]).toBe('sleep');
    expect(sleep).toBeGreaterThanOrEqual(10);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(sleep);
  });

  test('runs two replicas by default, spread over zones, with a disruption budget of one', () => {
    expect(deployment.spec.replicas).toBe(2);
    expect(render({ replicas: 3 }).objects.find((object) => object.kind === 'Deployment')?.spec).toMatchObject({ replicas: 3 });
    expect(pod.topologySpreadConstraints?.[0]).toMatchObject({ topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule' });
    expect(findObject(objects, 'PodDisruptionBudget').spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: router.selector } });
  });

  test('exposes port 80 named http to its own pods only, for the target group binding', () => {
    const service = findObject<k8s.ServiceSpec>(objects, 'Service');
    expect(router.serviceName).toBe('fraud-scorer-router');
    expect(service.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    expect(service.spec.selector).toEqual(router.selector);
    expect(deployment.spec.selector.matchLabels).toEqual(router.selector);
    expect(deployment.spec.template.metadata?.labels).toMatchObject({ ...PROPS.labels, ...router.selector, 'app.kubernetes.io/component': 'router' });
    // The versions' own pods never carry the router's selector.
    expect(router.selector).not.toHaveProperty('mlops.platform/model');
  });
});
