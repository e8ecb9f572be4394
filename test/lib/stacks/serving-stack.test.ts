import { Template } from 'aws-cdk-lib/assertions';
import { k8s } from 'cdk8s-plus-27';
import { MLFLOW_PORT, MLFLOW_SERVER_LABELS } from '../../../charts/mlflow-chart';
import { MODEL_LABEL, SCORING_PORT } from '../../../charts/model-serving-chart';
import { modelsCallableFrom } from '../../../lib/config/derived';
import { appliedManifests } from '../../helpers/applied-manifests';
import { ENVIRONMENTS, fixtureEnvironment, MINIMAL_ENVIRONMENT, MINIMAL_MODEL, testStage } from '../../helpers/app';
import { committedConfig, committedStageFacts, committedTemplate } from '../../helpers/committed-assembly';
import { findObject, KubeObject, objectsOfKind } from '../../helpers/kube-objects';
import { endpointSubnetCidrs } from '../../helpers/network-facts';
import { canonical, egressPairs } from '../../helpers/network-policies';

describe.each(ENVIRONMENTS)('%s serving stack', (name) => {
  const config = committedConfig(name);
  const stage = committedStageFacts(name);
  const template = committedTemplate(name, 'Serving');
  const resources = (type: string) => Object.entries(template.findResources(type));
  const models = config.teams.flatMap((team) => team.models);
  const stackOutput = (stack: string, output: RegExp) => ({
    'Fn::GetStackOutput': expect.objectContaining({ StackName: `${name}-${stack}`, OutputName: expect.stringMatching(output) }),
  });
  const clusterSecurityGroup = stackOutput('Cluster', /^PublishOutputFnGetAttCluster[0-9A-F]{8}ClusterSecurityGroupId/);
  const loadBalancerSecurityGroup = stackOutput('Ingress', /^PublishOutputFnGetAttLoadBalancerSecurityGroup[0-9A-F]{8}GroupId/);

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

  test('holds nothing of any one model: no target group, listener rule, alarm, dashboard, role or model chart', () => {
    for (const type of [
      'AWS::ElasticLoadBalancingV2::TargetGroup',
      'AWS::ElasticLoadBalancingV2::ListenerRule',
      'AWS::CloudWatch::Alarm',
      'AWS::CloudWatch::CompositeAlarm',
      'AWS::CloudWatch::Dashboard',
      'AWS::IAM::Role',
      'AWS::EKS::PodIdentityAssociation',
    ]) {
      expect([type, resources(type)]).toEqual([type, []]);
    }
    const charts = resources('Custom::AWSCDK-EKS-KubernetesResource').map(([id]) => id);
    expect(charts.filter((id) => !id.startsWith('GpuNodePools') && !/^Team.+Chart/.test(id))).toEqual([]);
  });

  test("lets the load balancer's security group reach the cluster security group on the scoring port with one rule pair, where config serves models", () => {
    const served = models.length > 0;
    const ingress = resources('AWS::EC2::SecurityGroupIngress').map(([, rule]) => rule.Properties);
    const egress = resources('AWS::EC2::SecurityGroupEgress').map(([, rule]) => rule.Properties);
    const port = { IpProtocol: 'tcp', FromPort: SCORING_PORT, ToPort: SCORING_PORT };
    expect(ingress).toEqual(served ? [expect.objectContaining({ ...port, GroupId: clusterSecurityGroup, SourceSecurityGroupId: loadBalancerSecurityGroup })] : []);
    expect(egress).toEqual(served ? [expect.objectContaining({ ...port, GroupId: loadBalancerSecurityGroup, DestinationSecurityGroupId: clusterSecurityGroup })] : []);
  });

  test("applies each team's namespace after the cluster, and the GPU node pools where config has any", () => {
    const charts = resources('Custom::AWSCDK-EKS-KubernetesResource').map(([id]) => id);
    for (const team of config.teams) {
      expect(charts).toContainEqual(expect.stringMatching(new RegExp(`^Team${team.name.replace(/-/g, '')}Chart`)));
    }
    // kubectl fails on a manifest without objects, so an environment without GPU pools has no pool manifest.
    expect(charts.filter((id) => id.startsWith('GpuNodePools'))).toHaveLength(config.gpuPools.length > 0 ? 1 : 0);
    expect(stage.stacks.Serving.dependencies).toEqual(expect.arrayContaining(['Cluster', ...(models.length > 0 ? ['Ingress'] : [])]));
    // The model stacks depend on this one, never the other way round.
    expect(stage.stacks.Serving.dependencies.filter((id) => id.startsWith('Model-') || id === 'Monitoring')).toEqual([]);
  });

  describe('Kubernetes objects from config', () => {
    const applied = appliedManifests(template.toJSON()).map((manifest) => manifest.object) as KubeObject[];
    const inNamespace = (namespace: string, kind: string) => objectsOfKind(applied, kind).filter((object) => object.metadata.namespace === namespace);

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

    test("lets a team's pods, its jobs included, reach only DNS, the MLflow server, the Pod Identity agent, AWS APIs at the endpoint subnets (anywhere only where config says so) and the models config lets it call", () => {
      const awsApiCidrs =
        config.network.podHttpsEgress === 'endpoints' ? endpointSubnetCidrs(committedTemplate(name, 'Network')) : ['0.0.0.0/0'];
      expect(awsApiCidrs.length).toBeGreaterThan(0);
      for (const team of config.teams) {
        const policies = inNamespace(team.name, 'NetworkPolicy') as KubeObject<k8s.NetworkPolicySpec>[];
        // Every one of them selects every pod of the namespace, so each pod gets the union of their rules.
        expect(policies.map((policy) => policy.spec.podSelector)).toEqual(policies.map(() => ({})));
        const mlflow = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'mlflow' } }, podSelector: { matchLabels: MLFLOW_SERVER_LABELS } };
        const callees = modelsCallableFrom(config, team.name).map((callee) => ({
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': callee.namespace } },
          podSelector: { matchLabels: { [MODEL_LABEL]: callee.model } },
        }));
        expect(egressPairs(policies)).toEqual(
          [
            'any UDP/53',
            'any TCP/53',
            `${canonical(mlflow)} TCP/${MLFLOW_PORT}`,
            `${canonical({ ipBlock: { cidr: '169.254.170.23/32' } })} TCP/80`,
            ...awsApiCidrs.map((cidr) => `${canonical({ ipBlock: { cidr } })} TCP/443`),
            ...callees.map((callee) => `${canonical(callee)} TCP/${SCORING_PORT}`),
          ].sort(),
        );
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

describe('a serving stack built from fixtures', () => {
  const team = { name: 'growth', quota: { cpu: 8, memoryGiB: 16, pods: 20 } };
  const rules = (models: unknown[]) => {
    const stage = testStage(fixtureEnvironment({ ...MINIMAL_ENVIRONMENT, ingress: { servingDomain: 'models.example.internal' }, teams: [{ ...team, models }] }));
    const template = Template.fromStack(stage.serving);
    return ['AWS::EC2::SecurityGroupIngress', 'AWS::EC2::SecurityGroupEgress'].map((type) => Object.keys(template.findResources(type)).length);
  };

  test('opens the scoring port to the pods only once a team serves a model', () => {
    expect(rules([])).toEqual([0, 0]);
    expect(rules([MINIMAL_MODEL])).toEqual([1, 1]);
  });
});
