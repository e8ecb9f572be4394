import { k8s } from 'cdk8s-plus-27';
import { SCORING_PORT } from '../../../charts/model-serving-chart';
import { modelAlarmNamePrefix, modelSloAlarmName, versionAlarmNames } from '../../../lib/config/alarm-names';
import { versionWeights } from '../../../lib/config/capacity';
import { modelHostname } from '../../../lib/config/derived';
import { appliedManifests, renderRefs } from '../../helpers/applied-manifests';
import { loadBalancerSubnetCidrs } from '../../helpers/network-facts';
import { ENVIRONMENTS } from '../../helpers/app';
import { committedConfig, committedStageFacts, committedTemplate } from '../../helpers/committed-assembly';
import { findObject, KubeObject, objectsOfKind } from '../../helpers/kube-objects';

describe.each(ENVIRONMENTS)('%s serving stack', (name) => {
  const config = committedConfig(name);
  const stage = committedStageFacts(name);
  const template = committedTemplate(name, 'Serving');
  const resources = (type: string) => Object.entries(template.findResources(type));
  const models = config.teams.flatMap((team) => team.models.map((model) => ({ team: team.name, ...model })));
  const targetGroup = (model: string, version: string) => {
    const found = resources('AWS::ElasticLoadBalancingV2::TargetGroup').find(([id]) => id.startsWith(`Model${model.replace(/-/g, '')}Routing${version.replace(/-/g, '')}TargetGroup`));
    if (!found) {
      throw new Error(`no target group for ${model} ${version}`);
    }
    return found;
  };
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

  test("pulls each version's image from the model's own repository at the configured tag", () => {
    for (const model of models) {
      const manifest = JSON.stringify(template.findResources('Custom::AWSCDK-EKS-KubernetesResource')[logicalId(`Model${model.name.replace(/-/g, '')}`) ?? '']);
      expect(manifest).toMatch(new RegExp(`RepositoriesModel${model.name.replace(/-/g, '')}`));
      for (const version of model.versions) {
        expect(manifest).toContain(`:${version.imageTag}`);
      }
    }
  });

  test("gives each version an IP target group, tagged with the cluster's name as Auto Mode requires, health-checked on /ping", () => {
    for (const model of models) {
      for (const version of model.versions) {
        const [, group] = targetGroup(model.name, version.name);
        expect(group.Properties).toMatchObject({ TargetType: 'ip', Protocol: 'HTTP', Port: SCORING_PORT, HealthCheckPath: '/ping' });
        expect(group.Properties.Tags).toContainEqual({ Key: 'eks:eks-cluster-name', Value: expect.anything() });
      }
    }
  });

  test("forwards each model's host to its versions with the configured weights, stickiness and version header", () => {
    for (const model of models) {
      const rules = resources('AWS::ElasticLoadBalancingV2::ListenerRule').filter(([id]) => id.startsWith(`Model${model.name.replace(/-/g, '')}Routing`));
      const host = { Field: 'host-header', HostHeaderConfig: { Values: [modelHostname(config, model)] } };
      const weighted = rules.map(([, rule]) => rule.Properties).find((rule) => rule.Actions[0].ForwardConfig);
      const weights = versionWeights(model);
      expect(weighted.Conditions).toEqual([host]);
      expect(weighted.Actions[0].ForwardConfig.TargetGroups).toEqual(
        model.versions.map((version) => ({ TargetGroupArn: { Ref: targetGroup(model.name, version.name)[0] }, Weight: weights[version.name] })),
      );
      const stickiness = weighted.Actions[0].ForwardConfig.TargetGroupStickinessConfig;
      expect(stickiness).toEqual(model.traffic.stickinessSeconds ? { Enabled: true, DurationSeconds: model.traffic.stickinessSeconds } : undefined);
      const pinned = rules.map(([, rule]) => rule.Properties).filter((rule) => !rule.Actions[0].ForwardConfig);
      expect(pinned).toHaveLength(model.traffic.versionHeader ? model.versions.length : 0);
      for (const rule of pinned) {
        const version = rule.Conditions[1].HttpHeaderConfig.Values[0];
        expect(rule.Conditions).toEqual([host, { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: model.traffic.versionHeader, Values: [version] } }]);
        expect(rule.Actions).toEqual([{ Type: 'forward', TargetGroupArn: { Ref: targetGroup(model.name, version)[0] } }]);
        // A pinned request must be matched before the weighted rule sends it elsewhere.
        expect(rule.Priority).toBeLessThan(weighted.Priority);
      }
    }
  });

  test('gives every version p95, p99, error-ratio and no-healthy-target alarms, and every model one composite alarm, all notifying the alarm topic', () => {
    const alarms = resources('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    const composites = resources('AWS::CloudWatch::CompositeAlarm').map(([, alarm]) => alarm.Properties);
    for (const model of models) {
      const prefix = modelAlarmNamePrefix(config, model.name);
      for (const version of model.versions) {
        for (const alarmName of Object.values(versionAlarmNames(prefix, version.name))) {
          const alarm = alarms.find((candidate) => candidate.AlarmName === alarmName);
          expect(alarm?.AlarmActions).toEqual([expect.objectContaining({ 'Fn::GetStackOutput': expect.objectContaining({ StackName: `${name}-Ingress` }) })]);
          expect(JSON.stringify(alarm)).toContain(targetGroup(model.name, version.name)[0]);
        }
      }
      expect(composites.map((composite) => composite.AlarmName)).toContain(modelSloAlarmName(prefix));
    }
    expect(alarms).toHaveLength(models.reduce((sum, model) => sum + 4 * model.versions.length, 0));
  });

  test('lets the load balancer reach the pods on the scoring port, and draws one dashboard, where config serves models', () => {
    const served = models.length > 0 ? 1 : 0;
    expect(resources('AWS::EC2::SecurityGroupIngress').map(([, rule]) => rule.Properties)).toEqual(
      Array(served).fill(expect.objectContaining({ IpProtocol: 'tcp', FromPort: SCORING_PORT, ToPort: SCORING_PORT })),
    );
    expect(resources('AWS::CloudWatch::Dashboard')).toHaveLength(served);
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

    test("serves each configured version as its own Deployment in its team's namespace, and a router where the model has a shadow or a fallback", () => {
      for (const team of config.teams) {
        expect(inNamespace(team.name, 'Deployment').map((deployment) => deployment.metadata.name).sort()).toEqual(
          team.models
            .flatMap((model) => [
              ...model.versions.map((version) => `${model.name}-${version.name}`),
              ...(model.traffic.shadow || model.traffic.fallback ? [`${model.name}-router`] : []),
            ])
            .sort(),
        );
      }
    });

    test('scales each version with KEDA between its configured bounds on request rate, CPU and a cron floor per peak window', () => {
      for (const model of models) {
        for (const version of model.versions) {
          const scaledObject = findObject<{ triggers: { type: string; metadata: Record<string, string> }[] }>(
            inNamespace(model.team, 'ScaledObject'),
            'ScaledObject',
            `${model.name}-${version.name}`,
          );
          const { autoscaling } = version;
          expect(scaledObject.spec).toMatchObject({ minReplicaCount: autoscaling.workingHours ? 0 : autoscaling.minReplicas, maxReplicaCount: autoscaling.maxReplicas });
          expect(scaledObject.spec.triggers[0]).toEqual({ type: 'cpu', metricType: 'Utilization', metadata: { value: String(autoscaling.targetCpuUtilization) } });
          expect(scaledObject.spec.triggers.filter((trigger) => trigger.type === 'aws-cloudwatch')).toHaveLength(1);
          const floors = scaledObject.spec.triggers.filter((trigger) => trigger.type === 'cron').map((trigger) => Number(trigger.metadata.desiredReplicas));
          expect(floors).toEqual([...(autoscaling.workingHours ? [autoscaling.minReplicas] : []), ...autoscaling.peakWindows.map((window) => window.minReplicas)]);
        }
      }
    });

    test("binds each version's target group to its Service, or to the router's for the primary of a model with a router", () => {
      const withRefs = appliedManifests(template.toJSON(), renderRefs).map((manifest) => manifest.object) as KubeObject[];
      const bindings = objectsOfKind<{ targetGroupARN: unknown; serviceRef: { name: string; port: number } }>(withRefs, 'TargetGroupBinding');
      for (const model of models) {
        const router = model.traffic.shadow || model.traffic.fallback;
        model.versions.forEach((version, index) => {
          const binding = findObject<{ targetGroupARN: unknown; serviceRef: { name: string; port: number } }>(bindings, 'TargetGroupBinding', `${model.name}-${version.name}`);
          expect(binding.spec.targetGroupARN).toBe(`ref:${targetGroup(model.name, version.name)[0]}`);
          const service = router && index === 0 ? `${model.name}-router` : `${model.name}-${version.name}`;
          expect(binding.spec.serviceRef.name).toBe(service);
          const ports = findObject<k8s.ServiceSpec>(inNamespace(model.team, 'Service'), 'Service', service).spec.ports ?? [];
          expect(ports.map((port) => port.port)).toContain(binding.spec.serviceRef.port);
        });
      }
    });

    test('admits only the load-balancer subnets and the namespaces config lists to each model', () => {
      const loadBalancerCidrs = loadBalancerSubnetCidrs(committedTemplate(name, 'Network'));
      for (const model of models) {
        const policy = findObject<k8s.NetworkPolicySpec>(inNamespace(model.team, 'NetworkPolicy'), 'NetworkPolicy', `${model.name}-ingress`);
        const from = policy.spec.ingress?.[0].from ?? [];
        expect(from.flatMap((peer) => peer.ipBlock?.cidr ?? [])).toEqual(loadBalancerCidrs);
        const namespaces = from.flatMap((peer) => peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] ?? []);
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
