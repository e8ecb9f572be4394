import { Match } from 'aws-cdk-lib/assertions';
import { KEDA_NAMESPACE, KEDA_OPERATOR_SERVICE_ACCOUNT, OPERATOR_POD_IDENTITY_ANNOTATION } from '../../../lib/constructs/keda';
import { appliedManifests } from '../../helpers/applied-manifests';
import { ENVIRONMENTS } from '../../helpers/app';
import { committedConfig, committedTemplate } from '../../helpers/committed-assembly';
import { findObject, KubeObject, objectsOfKind } from '../../helpers/kube-objects';

const ALL_CONTROL_PLANE_LOGS = ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'];

// cdk-nag's EKS rules match the classic CfnCluster class, not aws-eks-v2's, so these tests
// state what those rules would: private endpoint, every log type, secrets encryption.
describe.each(ENVIRONMENTS)('%s cluster stack', (name) => {
  const config = committedConfig(name);
  const template = committedTemplate(name, 'Cluster');
  const cluster = () => Object.values(template.findResources('AWS::EKS::Cluster'))[0].Properties;
  const applied = appliedManifests(template.toJSON()).map((manifest) => manifest.object) as KubeObject[];

  test('runs the configured Kubernetes version in EKS Auto Mode with only the built-in system node pool', () => {
    expect(cluster()).toMatchObject({
      Version: config.cluster.kubernetesVersion,
      ComputeConfig: { Enabled: true, NodePools: ['system'], NodeRoleArn: { 'Fn::GetAtt': [expect.stringMatching(/^ClusterNodeRole/), 'Arn'] } },
      StorageConfig: { BlockStorage: { Enabled: true } },
      KubernetesNetworkConfig: { ElasticLoadBalancing: { Enabled: true } },
    });
  });

  test('gives the Auto Mode nodes only the policies AWS documents for them', () => {
    const role = Object.entries(template.findResources('AWS::IAM::Role')).find(([id]) => id.startsWith('ClusterNodeRole'))?.[1];
    expect(JSON.stringify(role?.Properties.ManagedPolicyArns)).toBe(
      JSON.stringify(
        ['AmazonEKSWorkerNodeMinimalPolicy', 'AmazonEC2ContainerRegistryPullOnly'].map((policy) => ({
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::aws:policy/${policy}`]],
        })),
      ),
    );
    expect(role?.Properties.Policies).toBeUndefined();
  });

  test('keeps the API endpoint private unless config names the networks that may reach it', () => {
    const { publicAccessCidrs } = config.cluster;
    expect(cluster().ResourcesVpcConfig).toMatchObject({
      EndpointPrivateAccess: true,
      EndpointPublicAccess: publicAccessCidrs.length > 0,
      ...(publicAccessCidrs.length > 0 ? { PublicAccessCidrs: publicAccessCidrs } : {}),
    });
    if (config.environmentType === 'production') {
      expect(cluster().ResourcesVpcConfig.EndpointPublicAccess).toBe(false);
    }
  });

  test('logs every control-plane log type into an encrypted group with the configured retention', () => {
    const types = cluster().Logging.ClusterLogging.EnabledTypes.map((entry: { Type: string }) => entry.Type);
    expect(types.sort()).toEqual(ALL_CONTROL_PLANE_LOGS.sort());
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: `/aws/eks/${config.namePrefix}-${name}-cluster/cluster`,
      RetentionInDays: config.cluster.logRetentionDays,
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ClusterKey'), 'Arn'] },
    });
  });

  test('envelope-encrypts Kubernetes secrets with its own rotating key', () => {
    expect(cluster().EncryptionConfig).toEqual([
      { Provider: { KeyArn: { 'Fn::GetAtt': [expect.stringMatching(/^ClusterKey/), 'Arn'] } }, Resources: ['secrets'] },
    ]);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, Description: Match.stringLikeRegexp('Kubernetes secrets') });
  });

  test('grants access through access entries only, and cluster admin to exactly the configured principals and the kubectl provider', () => {
    expect(cluster().AccessConfig).toEqual({ AuthenticationMode: 'API', BootstrapClusterCreatorAdminPermissions: false });
    const entries = Object.values(template.findResources('AWS::EKS::AccessEntry')).map((entry) => entry.Properties);
    const literalPrincipals = entries.map((entry) => entry.PrincipalArn).filter((arn) => typeof arn === 'string');
    expect(literalPrincipals.sort()).toEqual([...config.cluster.admins].sort());
    expect(entries).toHaveLength(config.cluster.admins.length + 1);
    for (const entry of entries) {
      expect(entry.AccessPolicies).toEqual([
        { AccessScope: { Type: 'cluster' }, PolicyArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy']] } },
      ]);
    }
    expect(JSON.stringify(template.toJSON())).not.toMatch(/aws-auth/);
  });

  test('installs metrics-server at its pinned version through the add-on API, after the node pools exist', () => {
    const addons = template.findResources('AWS::EKS::Addon');
    expect(Object.values(addons).map((addon) => addon.Properties)).toEqual(
      Object.entries(config.cluster.addons).map(([addonName, addonVersion]) =>
        expect.objectContaining({ AddonName: addonName, AddonVersion: addonVersion }),
      ),
    );
    const clusterConfig = Object.keys(template.findResources('Custom::AWSCDK-EKS-KubernetesResource'))[0];
    for (const addon of Object.values(addons)) {
      expect(addon.DependsOn).toContain(clusterConfig);
    }
  });

  test('installs KEDA from its vendored Helm chart, an asset, into its namespace, after the node pools exist, and waits for it', () => {
    const charts = template.findResources('Custom::AWSCDK-EKS-HelmChart');
    expect(Object.values(charts).map((chart) => chart.Properties)).toEqual([
      expect.objectContaining({
        // The chart's files travel with the deploy; nothing is fetched from a chart repository.
        ChartAssetURL: expect.anything(),
        Release: 'keda',
        Namespace: 'keda',
        CreateNamespace: true,
        Wait: true,
      }),
    ]);
    // The chart's restricted pod and container security contexts stay as they are: the only value set
    // is the operator pods' annotation, which rolls them once their Pod Identity association exists.
    expect(JSON.parse(Object.values(charts)[0].Properties.Values)).toEqual({
      podAnnotations: { keda: { [OPERATOR_POD_IDENTITY_ANNOTATION]: `${KEDA_NAMESPACE}/${KEDA_OPERATOR_SERVICE_ACCOUNT}` } },
    });
    const clusterConfig = Object.keys(template.findResources('Custom::AWSCDK-EKS-KubernetesResource'))[0];
    expect(Object.values(charts)[0].DependsOn).toContain(clusterConfig);
  });

  test('applies the kubectl layer that matches the Kubernetes version', () => {
    template.hasResourceProperties('AWS::Lambda::LayerVersion', { Description: Match.stringLikeRegexp('kubectl') });
    expect(config.cluster.kubernetesVersion).toBe('1.36');
    expect(require.resolve('@aws-cdk/lambda-layer-kubectl-v36')).toBeTruthy();
  });

  test('admits the cluster security group, and nothing else, to the database on 5432', () => {
    const rules = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((rule) => rule.Properties);
    const databaseRules = rules.filter((rule) => JSON.stringify(rule.GroupId).includes('MlflowDatabaseSecurityGroup'));
    expect(databaseRules).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 5432,
        ToPort: 5432,
        SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^Cluster/), 'ClusterSecurityGroupId'] },
      }),
    ]);
    const dataTemplate = committedTemplate(name, 'Data');
    expect(dataTemplate.findResources('AWS::EC2::SecurityGroupIngress')).toEqual({});
    const databaseGroup = Object.entries(dataTemplate.findResources('AWS::EC2::SecurityGroup')).find(([id]) => id.startsWith('MlflowDatabaseSecurityGroup'))?.[1];
    expect(databaseGroup?.Properties.SecurityGroupIngress).toBeUndefined();
  });

  test('runs the general-purpose NodePool with the limits and disruption settings from config', () => {
    const pool = findObject<{ template: { spec: { expireAfter: string; requirements: { key: string; values: string[] }[] } }; limits: unknown; disruption: unknown }>(
      applied,
      'NodePool',
    );
    const settings = config.cluster.nodePool;
    expect(pool.spec.limits).toEqual({ cpu: String(settings.cpuLimit), memory: `${settings.memoryLimitGiB}Gi` });
    expect(pool.spec.disruption).toEqual({
      consolidationPolicy: settings.consolidationPolicy,
      consolidateAfter: settings.consolidateAfter,
      budgets: [{ nodes: settings.disruptionBudget }],
    });
    expect(pool.spec.template.spec.expireAfter).toBe(settings.expireAfter);
    expect(pool.spec.template.spec.requirements).toContainEqual(expect.objectContaining({ key: 'karpenter.sh/capacity-type', values: settings.capacityTypes }));
  });

  test('applies no IngressClass, so no tenant object can attach to the platform\'s load balancer', () => {
    expect(objectsOfKind(applied, 'IngressClass')).toEqual([]);
    expect(objectsOfKind(applied, 'IngressClassParams')).toEqual([]);
  });
});
