import { chartTestApp } from '../helpers/chart-app';
import { k8s } from 'cdk8s-plus-27';
import { GPU_RESOURCE, NODE_POOL_LABEL } from '../../charts/cluster-config-chart';
import { ModelServingChart, ModelServingChartProps, SCORING_PORT } from '../../charts/model-serving-chart';
import { envOf, findObject, KubeObject } from '../helpers/kube-objects';
import { validateKubernetesObjects } from '../helpers/kubernetes-schema';

/** The parts of a KEDA ScaledObject's spec these tests read. */
interface ScaledObjectSpec {
  scaleTargetRef: { apiVersion: string; kind: string; name: string };
  minReplicaCount: number;
  maxReplicaCount: number;
  advanced: { horizontalPodAutoscalerConfig: { name: string; behavior: { scaleUp: object; scaleDown: object } } };
  triggers: { type: string; metricType?: string; metadata: Record<string, string> }[];
}

const PROPS: ModelServingChartProps = {
  team: 'fraud',
  model: 'fraud-scorer',
  registeredModel: 'Fraud Scorer',
  alias: 'champion',
  image: '111111111111.dkr.ecr.eu-west-1.amazonaws.com/mlops/dev/models/fraud-scorer:2026.11.1',
  imageTag: '2026.11.1',
  resources: { cpuRequestMillicores: 1000, cpuLimitMillicores: 2000, memoryRequestMiB: 2048, memoryLimitMiB: 2048 },
  workers: 2,
  minReplicas: 4,
  maxReplicas: 24,
  targetCpuUtilization: 60,
  startupSeconds: 300,
  hostname: 'fraud-scorer.models.example.internal',
  allowedNamespaces: ['checkout'],
  inboundCidrs: ['10.0.0.0/16'],
  loadBalancerSubnetCidrs: ['10.0.32.0/19', '10.0.64.0/19'],
  https: true,
};

const render = (props: Partial<ModelServingChartProps> = {}) =>
  new ModelServingChart(chartTestApp(), 'model', { ...PROPS, ...props }).toJson() as KubeObject[];

describe('ModelServingChart', () => {
  const objects = render();
  const deployment = findObject<k8s.DeploymentSpec>(objects, 'Deployment');
  const pod = deployment.spec.template.spec as k8s.PodSpec;
  const container = pod.containers[0];

  test('renders as the snapshot, for a CPU and a GPU model', () => {
    expect([objects, render({ gpu: { pool: 'inference', count: 1 } })]).toMatchSnapshot();
  });

  test('runs the model image in its team namespace and records the registered model, alias and tag', () => {
    for (const object of objects) {
      expect(object.metadata.namespace).toBe('fraud');
    }
    expect(container.image).toBe(PROPS.image);
    expect(deployment.spec.template.metadata?.annotations).toEqual({
      'mlops.platform/registered-model': 'Fraud Scorer',
      'mlops.platform/model-alias': 'champion',
      'mlops.platform/image-tag': '2026.11.1',
    });
    expect(render({ alias: undefined, version: 7 }).find((object) => object.kind === 'Deployment')).toHaveProperty(
      ['spec', 'template', 'metadata', 'annotations', 'mlops.platform/model-version'],
      '7',
    );
  });

  test("starts MLflow's scoring app on all interfaces with the configured workers, bypassing the image's nginx", () => {
    expect(container.command).toEqual(['python', '-m', 'uvicorn']);
    expect(container.args).toEqual(['--host', '0.0.0.0', '--port', String(SCORING_PORT), '--workers', '2', 'mlflow.pyfunc.scoring_server.app:app']);
  });

  test('serves the MLflow scoring protocol on 8080 and probes /ping, with a startup probe as long as the model load', () => {
    expect(container.ports).toEqual([{ name: 'http', containerPort: SCORING_PORT, protocol: 'TCP' }]);
    for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) {
      expect(probe?.httpGet).toEqual({ path: '/ping', port: 'http' });
    }
    expect((container.startupProbe?.periodSeconds ?? 0) * (container.startupProbe?.failureThreshold ?? 0)).toBe(300);
  });

  test('leaves the replica count to the autoscaler and rolls out without losing capacity', () => {
    expect(deployment.spec.replicas).toBeUndefined();
    expect(deployment.spec.strategy?.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  });

  test('scales its Deployment with KEDA between the configured bounds on CPU, up fast and down slowly', () => {
    const scaledObject = findObject<ScaledObjectSpec>(objects, 'ScaledObject');
    expect(scaledObject.apiVersion).toBe('keda.sh/v1alpha1');
    expect(scaledObject.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name },
      minReplicaCount: 4,
      maxReplicaCount: 24,
      triggers: [{ type: 'cpu', metricType: 'Utilization', metadata: { value: '60' } }],
    });
    const { behavior } = scaledObject.spec.advanced.horizontalPodAutoscalerConfig;
    expect(behavior.scaleUp).toEqual({
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Percent', value: 100, periodSeconds: 15 },
        { type: 'Pods', value: 4, periodSeconds: 15 },
      ],
    });
    expect(behavior.scaleDown).toEqual({ stabilizationWindowSeconds: 300, selectPolicy: 'Min', policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }] });
    expect(objects.filter((object) => object.kind === 'HorizontalPodAutoscaler')).toEqual([]);
  });

  test("takes over the HPA of the model's name that came before KEDA, instead of being refused by KEDA's webhook", () => {
    const scaledObject = findObject<ScaledObjectSpec>(objects, 'ScaledObject');
    expect(scaledObject.metadata.annotations).toEqual({ 'scaledobject.keda.sh/transfer-hpa-ownership': 'true' });
    expect(scaledObject.spec.advanced.horizontalPodAutoscalerConfig.name).toBe('fraud-scorer');
  });

  test('raises the floor to each peak window\'s minReplicas with one cron trigger per window', () => {
    const peakWindows = [
      { timezone: 'Europe/Dublin', start: '45 7 * * 1-5', end: '0 10 * * 1-5', minReplicas: 10 },
      { timezone: 'America/New_York', start: '0 12 * * *', end: '0 14 * * *', minReplicas: 8 },
    ];
    const scaledObject = findObject<ScaledObjectSpec>(render({ peakWindows }), 'ScaledObject');
    expect(scaledObject.spec.minReplicaCount).toBe(4);
    expect(scaledObject.spec.triggers.slice(1)).toEqual([
      { type: 'cron', metadata: { timezone: 'Europe/Dublin', start: '45 7 * * 1-5', end: '0 10 * * 1-5', desiredReplicas: '10' } },
      { type: 'cron', metadata: { timezone: 'America/New_York', start: '0 12 * * *', end: '0 14 * * *', desiredReplicas: '8' } },
    ]);
  });

  test('scales to zero outside working hours only when they are given, keeping minReplicas while they last', () => {
    const workingHours = { timezone: 'Europe/Dublin', start: '0 8 * * 1-5', end: '0 19 * * 1-5' };
    const scaledObject = findObject<ScaledObjectSpec>(render({ workingHours }), 'ScaledObject');
    expect(scaledObject.spec.minReplicaCount).toBe(0);
    // KEDA scales to zero only with a trigger besides cpu: the working-hours cron trigger is that.
    expect(scaledObject.spec.triggers).toContainEqual({ type: 'cron', metadata: { ...workingHours, desiredReplicas: '4' } });
    expect(findObject<ScaledObjectSpec>(objects, 'ScaledObject').spec.triggers.map((trigger) => trigger.type)).toEqual(['cpu']);
  });

  test('renders objects that match their schemas, the ScaledObject included', () => {
    const workingHours = { timezone: 'Europe/Dublin', start: '0 8 * * 1-5', end: '0 19 * * 1-5' };
    const peakWindows = [{ timezone: 'Europe/Dublin', start: '45 7 * * 1-5', end: '0 10 * * 1-5', minReplicas: 10 }];
    expect(() => validateKubernetesObjects(render({ workingHours, peakWindows }))).not.toThrow();
    const invalid = { ...findObject(objects, 'ScaledObject'), spec: { scaleTargetRef: { name: 'fraud-scorer' }, minReplicaCount: 'four', triggers: [] } };
    expect(() => validateKubernetesObjects([invalid])).toThrow(/ScaledObject\/fraud\/fraud-scorer.*\n.*minReplicaCount/);
  });

  test('runs a CPU model on the general pool, with requests and limits and no GPU', () => {
    expect(pod.nodeSelector).toEqual({ [NODE_POOL_LABEL]: 'general' });
    expect(pod.tolerations).toBeUndefined();
    expect(container.resources).toEqual({ requests: { cpu: '1000m', memory: '2048Mi' }, limits: { cpu: '2000m', memory: '2048Mi' } });
  });

  test('gives a GPU model its GPUs as a real quantity, the GPU toleration and its pool as node selector', () => {
    const gpuPod = findObject<k8s.DeploymentSpec>(render({ gpu: { pool: 'inference', count: 2 } }), 'Deployment').spec.template.spec as k8s.PodSpec;
    expect(gpuPod.containers[0].resources?.limits).toMatchObject({ [GPU_RESOURCE]: 2 });
    expect(gpuPod.containers[0].resources?.requests).toMatchObject({ [GPU_RESOURCE]: 2 });
    expect(gpuPod.tolerations).toEqual([{ key: GPU_RESOURCE, operator: 'Exists', effect: 'NoSchedule' }]);
    expect(gpuPod.nodeSelector).toEqual({ [NODE_POOL_LABEL]: 'inference' });
  });

  test('hardens the pod like every platform workload, under its own service account', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(pod.serviceAccountName).toBe('fraud-scorer');
    expect(findObject(objects, 'ServiceAccount').metadata.name).toBe('fraud-scorer');
    expect(envOf(container)).toEqual({ __pyfunc_model_path__: '/opt/ml/model', HOME: '/tmp', PYTHONDONTWRITEBYTECODE: '1' });
  });

  test('spreads pods over zones and nodes and lets disruptions take one at a time', () => {
    const labels = deployment.spec.selector.matchLabels;
    expect(pod.topologySpreadConstraints?.map((constraint) => constraint.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    expect(pod.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0].podAffinityTerm).toEqual({
      topologyKey: 'kubernetes.io/hostname',
      labelSelector: { matchLabels: labels },
    });
    expect(findObject(objects, 'PodDisruptionBudget').spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: labels } });
  });

  test('routes its host name on the shared load balancer to its Service', () => {
    const ingress = findObject<k8s.IngressSpec>(objects, 'Ingress');
    expect(ingress.spec.ingressClassName).toBe('platform');
    expect(ingress.spec.rules).toEqual([
      { host: PROPS.hostname, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'fraud-scorer', port: { name: 'http' } } } }] } },
    ]);
    expect(ingress.metadata.annotations).toMatchObject({ 'alb.ingress.kubernetes.io/healthcheck-path': '/ping', 'alb.ingress.kubernetes.io/listen-ports': '[{"HTTPS":443}]' });
    expect(findObject<k8s.ServiceSpec>(objects, 'Service').spec.selector).toEqual(deployment.spec.template.metadata?.labels);
  });

  test('admits callers only from the load balancer subnets and the listed namespaces, on the scoring port', () => {
    expect(findObject<k8s.NetworkPolicySpec>(objects, 'NetworkPolicy').spec).toEqual({
      podSelector: deployment.spec.selector,
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            { ipBlock: { cidr: '10.0.32.0/19' } },
            { ipBlock: { cidr: '10.0.64.0/19' } },
            { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'checkout' } } },
          ],
          ports: [{ protocol: 'TCP', port: SCORING_PORT }],
        },
      ],
    });
  });
});
