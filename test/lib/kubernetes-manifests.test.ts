import { k8s } from 'cdk8s-plus-27';
import { ENFORCING_NODE_CLASS, GPU_RESOURCE, NODE_POOL_LABEL } from '../../charts/cluster-config-chart';
import { appliedManifests, DEPLOY_TIME_VALUE } from '../helpers/applied-manifests';
import { ENVIRONMENTS, STACK_IDS } from '../helpers/app';
import { committedConfig, committedModelStackIds, committedStageFacts, committedTemplate, StageStackId } from '../helpers/committed-assembly';
import { KubeObject, objectsOfKind } from '../helpers/kube-objects';
import { validateKubernetesObjects } from '../helpers/kubernetes-schema';

/** The ids of the committed environment's model stacks, `Model-<model>`, in stage order, as the shared assembly records them. */
const modelStackIds = committedModelStackIds;

const sameNamespace = (a: KubeObject, b: KubeObject) => a.metadata.namespace === b.metadata.namespace;
const selects = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  Object.entries(selector ?? {}).every(([key, value]) => labels?.[key] === value) && Object.keys(selector ?? {}).length > 0;

/** Pods of every workload the app applies, with the name of their owner. */
function podsOf(objects: KubeObject[]): { owner: string; metadata: k8s.ObjectMeta; spec: k8s.PodSpec }[] {
  const templates = [
    ...objectsOfKind<k8s.DeploymentSpec>(objects, 'Deployment').map((object) => ({ owner: `Deployment/${object.metadata.name}`, template: object.spec.template })),
    ...objectsOfKind<k8s.JobSpec>(objects, 'Job').map((object) => ({ owner: `Job/${object.metadata.name}`, template: object.spec.template })),
  ];
  return templates.map(({ owner, template }) => ({ owner, metadata: template.metadata ?? {}, spec: template.spec as k8s.PodSpec }));
}

describe.each(ENVIRONMENTS)('Kubernetes objects %s applies', (name) => {
  // Every stack, the fixed ones and each model's, so that an object is checked whichever stack comes to apply it.
  const stacks = [...STACK_IDS, ...modelStackIds(name)];
  const applied = stacks.flatMap((id) => appliedManifests(committedTemplate(name, id).toJSON())).map((manifest) => manifest.object);

  test("are read from every stack of the environment's stage", () => {
    expect([...stacks].sort()).toEqual([...committedStageFacts(name).children].sort());
  });

  test('all match the Kubernetes 1.36, Karpenter and EKS Auto Mode schemas', () => {
    expect(applied.length).toBeGreaterThan(10);
    expect(() => validateKubernetesObjects(applied)).not.toThrow();
  });

  const objects = applied as KubeObject[];
  const models = committedConfig(name).teams.flatMap((team) => team.models);

  test('every NodePool launches nodes from the NodeClass that enforces NetworkPolicies', () => {
    const nodeClasses = objectsOfKind<{ networkPolicy?: string }>(objects, 'NodeClass');
    const enforcing = nodeClasses.filter((nodeClass) => nodeClass.spec.networkPolicy !== undefined).map((nodeClass) => nodeClass.metadata.name);
    expect(enforcing).toEqual([ENFORCING_NODE_CLASS]);
    const pools = objectsOfKind<{ template: { spec: { nodeClassRef: { group: string; kind: string; name: string } } } }>(objects, 'NodePool');
    expect(pools.length).toBeGreaterThan(0);
    for (const pool of pools) {
      expect(pool.spec.template.spec.nodeClassRef).toEqual({ group: 'eks.amazonaws.com', kind: 'NodeClass', name: ENFORCING_NODE_CLASS });
    }
    expect(objects).toContainEqual(
      expect.objectContaining({ kind: 'ConfigMap', data: { 'enable-network-policy-controller': 'true' } }),
    );
  });

  test('every namespace the platform creates denies all ingress and egress by default', () => {
    const namespaces = objectsOfKind(objects, 'Namespace').map((namespace) => namespace.metadata.name);
    expect(namespaces.length).toBeGreaterThan(0);
    for (const namespace of namespaces) {
      expect(objectsOfKind<k8s.NetworkPolicySpec>(objects, 'NetworkPolicy')).toContainEqual(
        expect.objectContaining({
          metadata: expect.objectContaining({ namespace }),
          spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
        }),
      );
    }
  });

  test('no pod runs as root, escalates privileges, keeps a capability or writes its root filesystem', () => {
    for (const pod of podsOf(objects)) {
      expect([pod.owner, pod.spec.securityContext?.runAsNonRoot, pod.spec.securityContext?.runAsUser]).toEqual([pod.owner, true, expect.any(Number)]);
      expect(pod.spec.securityContext?.runAsUser).not.toBe(0);
      for (const container of [...pod.spec.containers, ...(pod.spec.initContainers ?? [])]) {
        expect([pod.owner, container.securityContext]).toEqual([
          pod.owner,
          expect.objectContaining({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } }),
        ]);
      }
    }
  });

  test('every container states CPU and memory requests and limits', () => {
    for (const pod of podsOf(objects)) {
      for (const container of pod.spec.containers) {
        expect([pod.owner, container.resources]).toEqual([
          pod.owner,
          {
            requests: expect.objectContaining({ cpu: expect.anything(), memory: expect.anything() }),
            limits: expect.objectContaining({ cpu: expect.anything(), memory: expect.anything() }),
          },
        ]);
      }
    }
  });

  test('every Deployment has probes, a disruption budget and zone spread', () => {
    const budgets = objectsOfKind<k8s.PodDisruptionBudgetSpec>(objects, 'PodDisruptionBudget');
    for (const deployment of objectsOfKind<k8s.DeploymentSpec>(objects, 'Deployment')) {
      const pod = deployment.spec.template;
      for (const container of pod.spec?.containers ?? []) {
        expect([container.startupProbe, container.readinessProbe, container.livenessProbe].every(Boolean)).toBe(true);
      }
      expect(budgets.some((budget) => sameNamespace(budget, deployment) && selects(budget.spec.selector?.matchLabels, pod.metadata?.labels))).toBe(true);
      expect(pod.spec?.topologySpreadConstraints?.map((constraint) => constraint.topologyKey)).toContain('topology.kubernetes.io/zone');
    }
  });

  test('every Service selects the pods of a Deployment, and every TargetGroupBinding names a port of a Service that exists', () => {
    const deployments = objectsOfKind<k8s.DeploymentSpec>(objects, 'Deployment');
    const services = objectsOfKind<k8s.ServiceSpec>(objects, 'Service');
    for (const service of services) {
      expect(deployments.some((deployment) => sameNamespace(deployment, service) && selects(service.spec.selector, deployment.spec.template.metadata?.labels))).toBe(true);
    }
    expect(objectsOfKind(objects, 'Ingress')).toEqual([]);
    for (const binding of objectsOfKind<{ serviceRef: { name: string; port: number } }>(objects, 'TargetGroupBinding')) {
      const service = services.find((candidate) => sameNamespace(candidate, binding) && candidate.metadata.name === binding.spec.serviceRef.name);
      expect([binding.metadata.name, service?.spec.ports?.some((port) => port.port === binding.spec.serviceRef.port)]).toEqual([binding.metadata.name, true]);
    }
  });

  test('every configured model version has a KEDA ScaledObject and no HPA of its own, and each scales a Deployment that leaves its replica count to it', () => {
    const deployments = objectsOfKind<k8s.DeploymentSpec>(objects, 'Deployment');
    const scaledObjects = objectsOfKind<{ scaleTargetRef: { apiVersion?: string; kind?: string; name: string } }>(objects, 'ScaledObject');
    expect(scaledObjects.map((scaledObject) => scaledObject.metadata.name).sort()).toEqual(
      models.flatMap((model) => model.versions.map((version) => `${model.name}-${version.name}`)).sort(),
    );
    // KEDA makes the HPA; a second one for the same Deployment would fight it, and KEDA's webhook refuses that.
    expect(objectsOfKind(objects, 'HorizontalPodAutoscaler')).toEqual([]);
    for (const scaledObject of scaledObjects) {
      expect(scaledObject.apiVersion).toBe('keda.sh/v1alpha1');
      expect(scaledObject.spec.scaleTargetRef).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment' });
      const target = deployments.find((deployment) => sameNamespace(deployment, scaledObject) && deployment.metadata.name === scaledObject.spec.scaleTargetRef.name);
      expect([scaledObject.metadata.name, target?.metadata.name]).toEqual([scaledObject.metadata.name, scaledObject.spec.scaleTargetRef.name]);
      expect(target?.spec.replicas).toBeUndefined();
    }
  });

  test('the pods of GPU models, and only those, request GPUs, tolerate the GPU taint and select a GPU NodePool by its label', () => {
    const gpuPools = objectsOfKind<{ template: { metadata: { labels: Record<string, string> }; spec: { taints?: { key: string; effect: string }[] } } }>(objects, 'NodePool')
      .filter((pool) => pool.spec.template.spec.taints?.some((taint) => taint.key === GPU_RESOURCE));
    const pods = podsOf(objects);
    const gpuPods = pods.filter((pod) => pod.spec.containers.some((container) => container.resources?.limits?.[GPU_RESOURCE] !== undefined));
    expect(gpuPods.map((pod) => pod.owner).sort()).toEqual(
      models.flatMap((model) => model.versions.filter((version) => version.gpu).map((version) => `Deployment/${model.name}-${version.name}`)).sort(),
    );
    for (const pod of gpuPods) {
      const pool = gpuPools.find((candidate) => candidate.spec.template.metadata.labels[NODE_POOL_LABEL] === pod.spec.nodeSelector?.[NODE_POOL_LABEL]);
      expect([pod.owner, pool?.metadata.name]).toEqual([pod.owner, expect.any(String)]);
      for (const taint of pool?.spec.template.spec.taints ?? []) {
        expect(pod.spec.tolerations).toContainEqual(expect.objectContaining({ key: taint.key, effect: taint.effect }));
      }
      for (const container of pod.spec.containers) {
        expect(Number(container.resources?.requests?.[GPU_RESOURCE])).toBeGreaterThan(0);
        expect(container.resources?.requests?.[GPU_RESOURCE]).toEqual(container.resources?.limits?.[GPU_RESOURCE]);
      }
    }
    for (const pod of pods.filter((candidate) => !gpuPods.includes(candidate))) {
      expect([pod.owner, pod.spec.tolerations]).toEqual([pod.owner, undefined]);
    }
  });

  test('hold no Kubernetes Secret and no credential: containers get secret ARNs and read the values at run time', () => {
    expect(objectsOfKind(objects, 'Secret')).toEqual([]);
    for (const pod of podsOf(objects)) {
      for (const container of pod.spec.containers) {
        for (const variable of container.env ?? []) {
          if (/PASSWORD|SECRET|TOKEN|KEY/.test(variable.name)) {
            expect([variable.name, variable.value]).toEqual([expect.stringMatching(/_ID$/), DEPLOY_TIME_VALUE]);
          }
        }
        expect(JSON.stringify([container.args, container.command, container.env])).not.toMatch(/:\/\/[^/@"]+:[^/@"]+@/);
      }
    }
  });
});
