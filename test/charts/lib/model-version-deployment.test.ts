import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { GPU_RESOURCE, NODE_POOL_LABEL } from '../../../charts/cluster-config-chart';
import { RequestRateTrigger } from '../../../charts/lib/deployment-scaled-object';
import { ModelVersionDeployment, ModelVersionDeploymentProps, SCORING_PORT, DRAIN_SECONDS } from '../../../charts/lib/model-version-deployment';
import { chartTestApp } from '../../helpers/chart-app';
import { envOf, findObject, KubeObject } from '../../helpers/kube-objects';
import { validateKubernetesObjects } from '../../helpers/kubernetes-schema';

/** The parts of a KEDA ScaledObject's spec these tests read. */
interface ScaledObjectSpec {
  scaleTargetRef: { apiVersion: string; kind: string; name: string };
  minReplicaCount: number;
  maxReplicaCount: number;
  advanced: { horizontalPodAutoscalerConfig: { name: string; behavior: { scaleUp: object; scaleDown: object } } };
  triggers: { type: string; metricType?: string; metadata: Record<string, string> }[];
}

const LABELS = {
  'app.kubernetes.io/name': 'fraud-scorer-v7',
  'app.kubernetes.io/part-of': 'fraud',
  'mlops.platform/model': 'fraud-scorer',
  'mlops.platform/model-version': 'v7',
};

const PROPS: ModelVersionDeploymentProps = {
  name: 'fraud-scorer-v7',
  namespace: 'fraud',
  labels: LABELS,
  serviceAccountName: 'fraud-scorer',
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
};

const REQUEST_RATE: RequestRateTrigger = {
  loadBalancerFullName: 'app/mlops-dev/50dc6c495c0c9188',
  targetGroupFullName: 'targetgroup/fraud-scorer-v7/73e2d6bc24d8a067',
  region: 'eu-west-1',
  podRequestsPerSecond: 200,
  authenticationName: 'aws-cloudwatch',
};

function render(props: Partial<ModelVersionDeploymentProps> = {}): KubeObject[] {
  const chart = new Chart(chartTestApp(), 'model', { disableResourceNameHashes: true });
  new ModelVersionDeployment(chart, 'Version', { ...PROPS, ...props });
  return chart.toJson() as KubeObject[];
}

describe('ModelVersionDeployment', () => {
  const objects = render();
  const deployment = findObject<k8s.DeploymentSpec>(objects, 'Deployment');
  const pod = deployment.spec.template.spec as k8s.PodSpec;
  const container = pod.containers[0];

  test('is a Deployment, a Service, an autoscaler and a disruption budget, named and labelled as given, in its namespace', () => {
    expect(objects.map((object) => [object.kind, object.metadata.name, object.metadata.namespace])).toEqual([
      ['Deployment', 'fraud-scorer-v7', 'fraud'],
      ['Service', 'fraud-scorer-v7', 'fraud'],
      ['ScaledObject', 'fraud-scorer-v7', 'fraud'],
      ['PodDisruptionBudget', 'fraud-scorer-v7', 'fraud'],
    ]);
    for (const object of objects) {
      expect(object.metadata.labels).toEqual(LABELS);
    }
    expect(deployment.spec.selector.matchLabels).toEqual(LABELS);
    expect(deployment.spec.template.metadata?.labels).toEqual(LABELS);
  });

  test('runs the model image and records the registered model, alias and tag', () => {
    expect(container.image).toBe(PROPS.image);
    expect(deployment.spec.template.metadata?.annotations).toEqual({
      'mlops.platform/registered-model': 'Fraud Scorer',
      'mlops.platform/model-alias': 'champion',
      'mlops.platform/image-tag': '2026.11.1',
    });
    expect(findObject(render({ alias: undefined, version: 7 }), 'Deployment')).toHaveProperty(
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

  test('keeps serving for a while after it is told to stop, within its grace period, while the load balancer drains it', () => {
    expect(container.lifecycle?.preStop?.exec?.command).toEqual(['sleep', String(DRAIN_SECONDS)]);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(DRAIN_SECONDS);
  });

  test('exposes port 80, named http, to its own pods, on their scoring port', () => {
    const service = findObject<k8s.ServiceSpec>(objects, 'Service');
    expect(service.spec.selector).toEqual(deployment.spec.template.metadata?.labels);
    expect(service.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
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

  test("takes over an HPA of the version's name that came before KEDA, instead of being refused by KEDA's webhook", () => {
    const scaledObject = findObject<ScaledObjectSpec>(objects, 'ScaledObject');
    expect(scaledObject.metadata.annotations).toEqual({ 'scaledobject.keda.sh/transfer-hpa-ownership': 'true' });
    expect(scaledObject.spec.advanced.horizontalPodAutoscalerConfig.name).toBe('fraud-scorer-v7');
  });

  test("raises the floor to each peak window's minReplicas with one cron trigger per window", () => {
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

  test("scales on its target group's request count as well when given one, and only then", () => {
    const triggers = findObject<ScaledObjectSpec>(render({ requestRate: REQUEST_RATE }), 'ScaledObject').spec.triggers;
    expect(triggers.map((trigger) => trigger.type)).toEqual(['cpu', 'aws-cloudwatch']);
    expect(triggers[1].metadata).toMatchObject({
      awsRegion: 'eu-west-1',
      metricName: 'RequestCount',
      dimensionValue: `${REQUEST_RATE.loadBalancerFullName};${REQUEST_RATE.targetGroupFullName}`,
    });
    expect(findObject<ScaledObjectSpec>(objects, 'ScaledObject').spec.triggers.map((trigger) => trigger.type)).not.toContain('aws-cloudwatch');
  });

  test('renders objects that match their schemas, the ScaledObject included', () => {
    const workingHours = { timezone: 'Europe/Dublin', start: '0 8 * * 1-5', end: '0 19 * * 1-5' };
    const peakWindows = [{ timezone: 'Europe/Dublin', start: '45 7 * * 1-5', end: '0 10 * * 1-5', minReplicas: 10 }];
    expect(() => validateKubernetesObjects(render({ workingHours, peakWindows, requestRate: REQUEST_RATE, gpu: { pool: 'inference', count: 1 } }))).not.toThrow();
    const invalid = { ...findObject(objects, 'ScaledObject'), spec: { scaleTargetRef: { name: 'fraud-scorer-v7' }, minReplicaCount: 'four', triggers: [] } };
    expect(() => validateKubernetesObjects([invalid])).toThrow(/ScaledObject\/fraud\/fraud-scorer-v7.*\n.*minReplicaCount/);
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

  test('hardens the pod like every platform workload, under the service account it is given', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(pod.serviceAccountName).toBe('fraud-scorer');
    expect(pod.automountServiceAccountToken).toBe(false);
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
});
