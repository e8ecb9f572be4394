import { k8s } from 'cdk8s-plus-27';
import { modelHostname } from '../../../lib/config/derived';
import { appliedManifests } from '../../helpers/applied-manifests';
import { ENVIRONMENTS } from '../../helpers/app';
import { committedConfig, committedStageFacts, committedTemplate } from '../../helpers/committed-assembly';
import { findObject, KubeObject, objectsOfKind } from '../../helpers/kube-objects';

describe.each(ENVIRONMENTS)('%s serving stack', (name) => {
  const config = committedConfig(name);
  const stage = committedStageFacts(name);
  const template = committedTemplate(name, 'Serving');
  const resources = (type: string) => Object.entries(template.findResources(type));
  const models = config.teams.flatMap((team) => team.models.map((model) => ({ team: team.name, ...model })));
  const logicalId = (prefix: string) => resources('Custom::AWSCDK-EKS-KubernetesResource').find(([id]) => id.startsWith(prefix))?.[0];

  test("gives each team principal one access entry that views the team namespace, in the admins' or the members' group", () => {
    const entries = resources('AWS::EKS::AccessEntry').map(([, entry]) => entry.Properties);
    const expected = config.teams.flatMap((team) => [
      ...team.admins.map((arn) => ({ arn, policy: 'AmazonEKSViewPolicy', group: `mlops:${team.name}:admins`, namespace: team.name })),
      ...team.members.map((arn) => ({ arn, policy: 'AmazonEKSViewPolicy', group: `mlops:${team.name}:members`, namespace: team.name })),
    ]);
    expect(entries).toHaveLength(expected.length);
    for (const { arn, policy, group, namespace } of expected) {
      expect(entries).toContainEqual(
        expect.objectContaining({
          PrincipalArn: arn,
          Type: 'STANDARD',
          KubernetesGroups: [group],
          AccessPolicies: [
            {
              AccessScope: { Type: 'namespace', Namespaces: [namespace] },
              PolicyArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:eks::aws:cluster-access-policy/${policy}`]] },
            },
          ],
        }),
      );
    }
  });

  test("binds each model's service account to a role that holds only the model's read policy", () => {
    for (const model of models) {
      const id = model.name.replace(/-/g, '');
      const association = resources('AWS::EKS::PodIdentityAssociation').find(([key]) => key.startsWith(`Model${id}`))?.[1];
      expect(association?.Properties).toMatchObject({ Namespace: model.team, ServiceAccount: model.name });
      const role = resources('AWS::IAM::Role').find(([key]) => key.startsWith(`Model${id}Role`))?.[1];
      expect(role?.Properties.ManagedPolicyArns).toEqual([
        { 'Fn::GetStackOutput': expect.objectContaining({ StackName: `${name}-Data`, OutputName: expect.stringMatching(new RegExp(`ArtifactsModel${id}ReadPolicy`)) }) },
      ]);
      expect(role?.Properties.Policies).toBeUndefined();
      expect(role?.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'pods.eks.amazonaws.com' });
    }
    expect(resources('AWS::IAM::Policy')).toEqual([]);
  });

  test("pulls each model's image from its own repository at the configured tag", () => {
    for (const model of models) {
      const manifest = JSON.stringify(template.findResources('Custom::AWSCDK-EKS-KubernetesResource')[logicalId(`Model${model.name.replace(/-/g, '')}`) ?? '']);
      expect(manifest).toMatch(new RegExp(`RepositoriesModel${model.name.replace(/-/g, '')}`));
      expect(manifest).toContain(`:${model.imageTag}`);
    }
  });

  test('applies each model after its team namespace and the GPU node pools, where config has any', () => {
    // kubectl fails on a manifest without objects, so an environment without GPU pools has no pool manifest.
    const gpuPools = config.gpuPools.length > 0 ? [logicalId('GpuNodePools')] : [];
    for (const model of models) {
      const chart = template.findResources('Custom::AWSCDK-EKS-KubernetesResource')[logicalId(`Model${model.name.replace(/-/g, '')}`) ?? ''];
      expect(chart.DependsOn).toEqual(expect.arrayContaining([logicalId(`Team${model.team}`), ...gpuPools]));
    }
    // Models pull from their repositories and read their artifact prefixes, so their stack waits for the data stack.
    expect(stage.stacks.Serving.dependencies).toEqual(expect.arrayContaining(models.length > 0 ? ['Cluster', 'Data'] : []));
  });

  describe('Kubernetes objects from config', () => {
    const applied = appliedManifests(template.toJSON()).map((manifest) => manifest.object) as KubeObject[];
    const inNamespace = (namespace: string, kind: string) => objectsOfKind(applied, kind).filter((object) => object.metadata.namespace === namespace);

    test("serves each configured model as its own Deployment in its team's namespace", () => {
      for (const team of config.teams) {
        expect(inNamespace(team.name, 'Deployment').map((deployment) => deployment.metadata.name).sort()).toEqual(team.models.map((model) => model.name).sort());
      }
    });

    test('scales each model with KEDA between its configured bounds on its configured CPU target, with a cron floor per peak window', () => {
      for (const model of models) {
        const scaledObject = findObject<{ triggers: { type: string; metadata: Record<string, string> }[] }>(inNamespace(model.team, 'ScaledObject'), 'ScaledObject', model.name);
        expect(scaledObject.spec).toMatchObject({
          minReplicaCount: model.autoscaling.workingHours ? 0 : model.autoscaling.minReplicas,
          maxReplicaCount: model.autoscaling.maxReplicas,
        });
        expect(scaledObject.spec.triggers[0]).toEqual({ type: 'cpu', metricType: 'Utilization', metadata: { value: String(model.autoscaling.targetCpuUtilization) } });
        const floors = scaledObject.spec.triggers.filter((trigger) => trigger.type === 'cron').map((trigger) => Number(trigger.metadata.desiredReplicas));
        expect(floors).toEqual([
          ...(model.autoscaling.workingHours ? [model.autoscaling.minReplicas] : []),
          ...model.autoscaling.peakWindows.map((window) => window.minReplicas),
        ]);
      }
    });

    test('routes each model at its host name and admits the namespaces config lists', () => {
      for (const model of models) {
        const ingress = findObject<k8s.IngressSpec>(inNamespace(model.team, 'Ingress'), 'Ingress', model.name);
        expect(ingress.spec.rules?.map((rule) => rule.host)).toEqual([modelHostname(config, model)]);
        const policy = findObject<k8s.NetworkPolicySpec>(inNamespace(model.team, 'NetworkPolicy'), 'NetworkPolicy', `${model.name}-ingress`);
        const namespaces = policy.spec.ingress?.[0].from?.flatMap((peer) => peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] ?? []);
        expect(namespaces).toEqual(model.exposure.allowedNamespaces);
      }
    });

    test("caps each team's namespace at its configured quota", () => {
      for (const team of config.teams) {
        expect(findObject<k8s.ResourceQuotaSpec>(inNamespace(team.name, 'ResourceQuota'), 'ResourceQuota').spec.hard).toEqual({
          'requests.cpu': String(team.quota.cpu),
          'requests.memory': `${team.quota.memoryGiB}Gi`,
          pods: String(team.quota.pods),
          'requests.nvidia.com/gpu': String(team.quota.gpus),
        });
      }
    });

    test('makes one GPU NodePool per configured pool, with its GPU and CPU limits', () => {
      const pools = objectsOfKind<{ limits: Record<string, string> }>(applied, 'NodePool');
      expect(pools.map((pool) => pool.metadata.name)).toEqual(config.gpuPools.map((pool) => `gpu-${pool.name}`));
      for (const [index, pool] of config.gpuPools.entries()) {
        expect(pools[index].spec.limits).toEqual({ cpu: String(pool.cpuLimit), 'nvidia.com/gpu': String(pool.gpuLimit) });
      }
    });
  });
});
