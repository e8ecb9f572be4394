import { k8s } from 'cdk8s-plus-27';
import { modelRouterConfig, ROUTER_PORT } from '../../charts/lib/model-router-config';
import {
  MODEL_LABEL,
  MODEL_VERSION_LABEL,
  ModelServingChart,
  ModelServingChartProps,
  ModelVersionServing,
  SCORING_PORT,
} from '../../charts/model-serving-chart';
import { chartTestApp } from '../helpers/chart-app';
import { findObject, KubeObject, objectsOfKind } from '../helpers/kube-objects';
import { validateKubernetesObjects } from '../helpers/kubernetes-schema';

/** The spec of an Auto Mode TargetGroupBinding. */
interface BindingSpec {
  targetGroupARN: string;
  targetType: string;
  serviceRef: { name: string; port: number | string };
}

/** The parts of a KEDA ScaledObject's spec these tests read. */
interface ScaledObjectSpec {
  minReplicaCount: number;
  triggers: { type: string; metadata: Record<string, string> }[];
}

const targetGroupArn = (version: string) =>
  `arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/fraud-scorer-${version}/0123456789abcdef`;

const V7: ModelVersionServing = {
  name: 'v7',
  alias: 'champion',
  image: '111111111111.dkr.ecr.eu-west-1.amazonaws.com/mlops/dev/models/fraud-scorer:2026.11.1',
  imageTag: '2026.11.1',
  resources: { cpuRequestMillicores: 1000, cpuLimitMillicores: 2000, memoryRequestMiB: 2048, memoryLimitMiB: 2048 },
  workers: 2,
  minReplicas: 4,
  maxReplicas: 24,
  targetCpuUtilization: 60,
  startupSeconds: 300,
  targetGroupArn: targetGroupArn('v7'),
};

const V8: ModelVersionServing = {
  ...V7,
  name: 'v8',
  alias: undefined,
  version: 8,
  image: '111111111111.dkr.ecr.eu-west-1.amazonaws.com/mlops/dev/models/fraud-scorer:2026.12.1',
  imageTag: '2026.12.1',
  minReplicas: 2,
  requestRate: {
    loadBalancerFullName: 'app/mlops-dev/50dc6c495c0c9188',
    targetGroupFullName: 'targetgroup/fraud-scorer-v8/73e2d6bc24d8a067',
    region: 'eu-west-1',
    podRequestsPerSecond: 200,
    authenticationName: 'aws-cloudwatch',
  },
  targetGroupArn: targetGroupArn('v8'),
};

const V6: ModelVersionServing = { ...V7, name: 'v6', alias: 'previous', targetGroupArn: targetGroupArn('v6') };

const ROUTER_IMAGE = '111111111111.dkr.ecr.eu-west-1.amazonaws.com/cdk-hnb659fds-container-assets:0123abcd';

const PROPS: ModelServingChartProps = {
  team: 'fraud',
  model: 'fraud-scorer',
  registeredModel: 'Fraud Scorer',
  versions: [V7],
  allowedNamespaces: ['checkout'],
  loadBalancerSubnetCidrs: ['10.0.32.0/19', '10.0.64.0/19'],
};

/** Three versions, v7 the primary, with neither shadow nor fallback. */
const THREE_VERSIONS: Partial<ModelServingChartProps> = { versions: [V7, V8, V6] };

/** Three versions behind a router: v8 shadows v7, v6 stands in for it. */
const ROUTED: Partial<ModelServingChartProps> = { ...THREE_VERSIONS, shadow: { version: 'v8', percent: 10 }, fallback: 'v6', routerImage: ROUTER_IMAGE };

const render = (props: Partial<ModelServingChartProps> = {}) =>
  new ModelServingChart(chartTestApp(), 'model', { ...PROPS, ...props }).toJson() as KubeObject[];

/** Whether a label selector's every label is among `labels`. */
const selects = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  Object.entries(selector ?? {}).every(([key, value]) => labels?.[key] === value);

const podLabels = (deployment: KubeObject<k8s.DeploymentSpec>) => deployment.spec.template.metadata?.labels;

const bindings = (objects: KubeObject[]) => objectsOfKind<BindingSpec>(objects, 'TargetGroupBinding');

describe('ModelServingChart', () => {
  test('renders as the snapshot, for a CPU and a GPU model', () => {
    expect([render(), render({ versions: [{ ...V7, gpu: { pool: 'inference', count: 1 } }] })]).toMatchSnapshot();
  });

  test('puts every object in the team namespace', () => {
    for (const object of render(ROUTED)) {
      expect(object.metadata.namespace).toBe('fraud');
    }
  });

  test('renders a Deployment, Service, autoscaler, disruption budget and target group binding per version, named <model>-<version>', () => {
    const objects = render(THREE_VERSIONS);
    for (const kind of ['Deployment', 'ScaledObject', 'PodDisruptionBudget', 'TargetGroupBinding']) {
      expect(objectsOfKind(objects, kind).map((object) => object.metadata.name)).toEqual(['fraud-scorer-v7', 'fraud-scorer-v8', 'fraud-scorer-v6']);
    }
    // Plus the model's own Service, which in-cluster callers use.
    expect(objectsOfKind(objects, 'Service').map((object) => object.metadata.name)).toEqual(['fraud-scorer-v7', 'fraud-scorer-v8', 'fraud-scorer-v6', 'fraud-scorer']);
  });

  test("gives in-cluster callers one Service named after the model, selecting the primary's pods, or the router's where there is one", () => {
    const selected = (objects: KubeObject[]) => {
      const selector = findObject<k8s.ServiceSpec>(objects, 'Service', 'fraud-scorer').spec.selector;
      return objectsOfKind<k8s.DeploymentSpec>(objects, 'Deployment').filter((deployment) => selects(selector, podLabels(deployment))).map((deployment) => deployment.metadata.name);
    };
    expect(selected(render(THREE_VERSIONS))).toEqual(['fraud-scorer-v7']);
    expect(selected(render({ ...THREE_VERSIONS, fallback: 'v6', routerImage: ROUTER_IMAGE }))).toEqual(['fraud-scorer-router']);
  });

  test("labels each version's objects with the model and the version, and each version's Service selects its own pods only", () => {
    const objects = render(THREE_VERSIONS);
    const deployments = objectsOfKind<k8s.DeploymentSpec>(objects, 'Deployment');
    for (const version of ['v7', 'v8', 'v6']) {
      const name = `fraud-scorer-${version}`;
      for (const kind of ['Deployment', 'Service', 'ScaledObject', 'PodDisruptionBudget', 'TargetGroupBinding']) {
        expect(findObject(objects, kind, name).metadata.labels).toMatchObject({ [MODEL_LABEL]: 'fraud-scorer', [MODEL_VERSION_LABEL]: version });
      }
      const selector = findObject<k8s.ServiceSpec>(objects, 'Service', name).spec.selector;
      expect(deployments.filter((deployment) => selects(selector, podLabels(deployment))).map((deployment) => deployment.metadata.name)).toEqual([name]);
    }
  });

  test("runs every version under the model's one service account", () => {
    const objects = render(THREE_VERSIONS);
    expect(objectsOfKind(objects, 'ServiceAccount').map((account) => account.metadata.name)).toEqual(['fraud-scorer']);
    for (const deployment of objectsOfKind<k8s.DeploymentSpec>(objects, 'Deployment')) {
      expect(deployment.spec.template.spec?.serviceAccountName).toBe('fraud-scorer');
    }
  });

  test('gives each version its own image, registry reference, autoscaling and request-rate trigger', () => {
    const objects = render(THREE_VERSIONS);
    const v8 = findObject<k8s.DeploymentSpec>(objects, 'Deployment', 'fraud-scorer-v8');
    expect(v8.spec.template.spec?.containers[0].image).toBe(V8.image);
    expect(v8.spec.template.metadata?.annotations).toEqual({
      'mlops.platform/registered-model': 'Fraud Scorer',
      'mlops.platform/model-version': '8',
      'mlops.platform/image-tag': '2026.12.1',
    });
    const scaledObject = (name: string) => findObject<ScaledObjectSpec>(objects, 'ScaledObject', name).spec;
    expect(scaledObject('fraud-scorer-v8').minReplicaCount).toBe(2);
    expect(scaledObject('fraud-scorer-v8').triggers.find((trigger) => trigger.type === 'aws-cloudwatch')?.metadata.dimensionValue).toBe(
      'app/mlops-dev/50dc6c495c0c9188;targetgroup/fraud-scorer-v8/73e2d6bc24d8a067',
    );
    expect(scaledObject('fraud-scorer-v7').minReplicaCount).toBe(4);
    expect(scaledObject('fraud-scorer-v7').triggers.map((trigger) => trigger.type)).toEqual(['cpu']);
  });

  test("binds each version's target group, by IP, to the version's own Service on port 80 when there is no router", () => {
    expect(bindings(render(THREE_VERSIONS)).map((binding) => [binding.metadata.name, binding.spec])).toEqual(
      ['v7', 'v8', 'v6'].map((version) => [
        `fraud-scorer-${version}`,
        { targetGroupARN: targetGroupArn(version), targetType: 'ip', serviceRef: { name: `fraud-scorer-${version}`, port: 80 } },
      ]),
    );
  });

  test.each([
    ['without a router', THREE_VERSIONS],
    ['with a router', ROUTED],
  ])('binds every target group to a Service of the chart, on a port that Service has, %s', (_case, props) => {
    const objects = render(props);
    for (const binding of bindings(objects)) {
      const service = findObject<k8s.ServiceSpec>(objects, 'Service', binding.spec.serviceRef.name);
      expect(service.spec.ports?.map((port) => port.port)).toContain(binding.spec.serviceRef.port);
    }
  });

  test('has no router without a shadow or a fallback, even given its image', () => {
    const objects = render({ ...THREE_VERSIONS, routerImage: ROUTER_IMAGE });
    expect(objects.filter((object) => object.metadata.name?.startsWith('fraud-scorer-router'))).toEqual([]);
    expect(objectsOfKind(objects, 'ConfigMap')).toEqual([]);
    expect(objectsOfKind(objects, 'NetworkPolicy').map((policy) => policy.metadata.name)).toEqual(['fraud-scorer-ingress']);
  });

  test.each([
    ['a shadow', { shadow: { version: 'v8', percent: 10 } }],
    ['a fallback', { fallback: 'v6' }],
    ['a shadow and a fallback', { shadow: { version: 'v8', percent: 10 }, fallback: 'v6' }],
  ])("with %s, puts a router in front of the primary: the primary's binding names the router's Service, the others their own", (_case, traffic) => {
    const objects = render({ ...THREE_VERSIONS, ...traffic, routerImage: ROUTER_IMAGE });
    findObject(objects, 'Deployment', 'fraud-scorer-router');
    expect(bindings(objects).map((binding) => [binding.spec.targetGroupARN, binding.spec.serviceRef])).toEqual([
      [targetGroupArn('v7'), { name: 'fraud-scorer-router', port: 80 }],
      [targetGroupArn('v8'), { name: 'fraud-scorer-v8', port: 80 }],
      [targetGroupArn('v6'), { name: 'fraud-scorer-v6', port: 80 }],
    ]);
  });

  test("points the router at the primary, shadow and fallback versions' Services, by cluster DNS name on port 80", () => {
    const objects = render(ROUTED);
    const config = Object.values(findObject(objects, 'ConfigMap', 'fraud-scorer-router').data as Record<string, string>)[0];
    const upstream = (version: string) => ({ version, host: `fraud-scorer-${version}.fraud.svc.cluster.local`, port: 80 });
    expect(config).toBe(modelRouterConfig({ primary: upstream('v7'), shadow: { ...upstream('v8'), percent: 10 }, fallback: upstream('v6') }));
    // Every upstream the router resolves is a Service of the chart, on a port it has.
    const servers = [...config.matchAll(/^\s*server ([a-z0-9-]+)\.fraud\.svc\.cluster\.local:(\d+)/gm)].map(([, name, port]) => [name, Number(port)] as const);
    expect(servers.map(([name]) => name).sort()).toEqual(['fraud-scorer-v6', 'fraud-scorer-v7', 'fraud-scorer-v8']);
    for (const [name, port] of servers) {
      expect(findObject<k8s.ServiceSpec>(objects, 'Service', name).spec.ports?.map((each) => each.port)).toContain(port);
    }
  });

  test("admits exactly the load balancer subnets and the listed namespaces to every version's pods, on the scoring port", () => {
    const objects = render(THREE_VERSIONS);
    const policy = findObject<k8s.NetworkPolicySpec>(objects, 'NetworkPolicy', 'fraud-scorer-ingress');
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: { [MODEL_LABEL]: 'fraud-scorer' } },
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
    for (const deployment of objectsOfKind<k8s.DeploymentSpec>(objects, 'Deployment')) {
      expect(selects(policy.spec.podSelector.matchLabels, podLabels(deployment))).toBe(true);
    }
  });

  test('with a router, admits the router pods to the versions, and the load balancer to the router on the port it listens on', () => {
    const objects = render(ROUTED);
    const policy = findObject<k8s.NetworkPolicySpec>(objects, 'NetworkPolicy', 'fraud-scorer-ingress');
    const router = findObject<k8s.DeploymentSpec>(objects, 'Deployment', 'fraud-scorer-router');
    const [rule] = policy.spec.ingress ?? [];
    expect(rule.from).toEqual([
      { ipBlock: { cidr: '10.0.32.0/19' } },
      { ipBlock: { cidr: '10.0.64.0/19' } },
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'checkout' } } },
      { podSelector: { matchLabels: router.spec.selector.matchLabels } },
    ]);
    // The router's pods carry the model label, so the same rule admits the load balancer to them.
    expect(selects(policy.spec.podSelector.matchLabels, podLabels(router))).toBe(true);
    expect(rule.ports).toEqual([{ protocol: 'TCP', port: ROUTER_PORT }]);
    expect(router.spec.template.spec?.containers[0].ports?.map((port) => port.containerPort)).toEqual([ROUTER_PORT]);
  });

  test("lets the router out only to the model's pods, on the scoring port", () => {
    const objects = render(ROUTED);
    const router = findObject<k8s.DeploymentSpec>(objects, 'Deployment', 'fraud-scorer-router');
    const egress = findObject<k8s.NetworkPolicySpec>(objects, 'NetworkPolicy', 'fraud-scorer-router-egress');
    expect(egress.spec).toEqual({
      podSelector: { matchLabels: router.spec.selector.matchLabels },
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: { matchLabels: { [MODEL_LABEL]: 'fraud-scorer' } } }], ports: [{ protocol: 'TCP', port: SCORING_PORT }] }],
    });
    for (const version of ['v7', 'v8', 'v6']) {
      expect(selects(egress.spec.egress?.[0].to?.[0].podSelector?.matchLabels, podLabels(findObject(objects, 'Deployment', `fraud-scorer-${version}`)))).toBe(true);
    }
  });

  test.each([
    ['a shadow', { shadow: { version: 'v8', percent: 10 } }],
    ['a fallback', { fallback: 'v6' }],
  ])("refuses %s without the router's image", (_case, traffic) => {
    expect(() => render({ ...THREE_VERSIONS, ...traffic })).toThrow("model fraud-scorer: a shadow or a fallback needs the router's image (routerImage)");
  });

  test('renders objects that match their schemas, the router and the target group bindings included', () => {
    const workingHours = { timezone: 'Europe/Dublin', start: '0 8 * * 1-5', end: '0 19 * * 1-5' };
    const peakWindows = [{ timezone: 'Europe/Dublin', start: '45 7 * * 1-5', end: '0 10 * * 1-5', minReplicas: 10 }];
    expect(() => validateKubernetesObjects(render({ ...ROUTED, versions: [{ ...V7, workingHours, peakWindows }, V8, V6] }))).not.toThrow();
    expect(() => validateKubernetesObjects(render({ versions: [{ ...V7, gpu: { pool: 'inference', count: 1 } }] }))).not.toThrow();
  });
});
