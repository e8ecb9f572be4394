import { KubectlV36Layer } from '@aws-cdk/lambda-layer-kubectl-v36';
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { ClusterConfigChart, GeneralNodePoolOptions } from '../../charts/cluster-config-chart';
import { acknowledgeManagedPolicies, acknowledgeWildcardResource } from '../compliance';
import { KUBERNETES_VERSIONS } from '../config/schema';
import { CONTAINER_INSIGHTS_ADDON, ContainerInsights } from './container-insights';
import { EncryptedLogGroup } from './encrypted-log-group';
import { EncryptionKey } from './encryption-key';
import { Keda } from './keda';

/** A Kubernetes version the platform supports. */
export type KubernetesVersionName = (typeof KUBERNETES_VERSIONS)[number];

/** The kubectl Lambda layer matching each supported version: kubectl supports one minor version of skew. */
const KUBECTL_LAYERS: Record<KubernetesVersionName, new (scope: Construct, id: string) => lambda.ILayerVersion> = {
  '1.36': KubectlV36Layer,
};

/** Every control-plane log type, so that API, audit and authenticator events are all kept. */
const CONTROL_PLANE_LOGS = [
  eks.ClusterLoggingTypes.API,
  eks.ClusterLoggingTypes.AUDIT,
  eks.ClusterLoggingTypes.AUTHENTICATOR,
  eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
  eks.ClusterLoggingTypes.SCHEDULER,
];

/** Properties of a {@link PlatformCluster}. */
export interface PlatformClusterProps {
  /** VPC whose private subnets hold the nodes and the control plane's network interfaces. */
  readonly vpc: ec2.IVpc;
  /** Name of the EKS cluster; also names its control-plane log group. */
  readonly clusterName: string;
  /** Kubernetes version. @default '1.36' */
  readonly kubernetesVersion?: KubernetesVersionName;
  /** CIDRs that may reach the API endpoint from the internet. @default - none: the endpoint is private */
  readonly publicAccessCidrs?: string[];
  /** IAM principal ARNs given cluster admin through access entries. @default - none */
  readonly adminPrincipalArns?: string[];
  /** EKS add-ons by name, each with its pinned version; `amazon-cloudwatch-observability` also gets its role and log groups. @default - none */
  readonly addons?: Record<string, string>;
  /** Limits and disruption settings of the general-purpose CPU node pool. */
  readonly generalNodePool: GeneralNodePoolOptions;
  /** Days to keep control-plane logs. @default RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** Days to keep the container, node and performance logs of Container Insights. @default RetentionDays.ONE_YEAR */
  readonly containerLogRetention?: logs.RetentionDays;
  /** What happens to the secrets key and the log groups when they leave the stack. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * An EKS Auto Mode cluster: AWS runs compute, load balancing, block storage, Pod Identity and
 * the GPU device plugins. Only the built-in `system` node pool is kept, because the built-in
 * NodeClass cannot enforce NetworkPolicies; workloads run on the platform's own NodeClass, which
 * does, through the {@link ClusterConfigChart} applied here.
 */
export class PlatformCluster extends Construct {
  /** The cluster. */
  public readonly cluster: eks.Cluster;
  /** Role of every Auto Mode node, named by the platform's NodeClass. */
  public readonly nodeRole: iam.Role;
  /** Key encrypting Kubernetes secrets and the cluster's log groups. */
  public readonly key: EncryptionKey;
  /** The cluster-wide Kubernetes settings, which every {@link PlatformManifest} is applied after. */
  public readonly clusterConfig: eks.KubernetesManifest;
  /** KEDA, which every model's ScaledObject is applied after. */
  public readonly keda: Keda;

  constructor(scope: Construct, id: string, props: PlatformClusterProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const version = props.kubernetesVersion ?? '1.36';

    this.key = new EncryptionKey(this, 'Key', {
      description: `Encrypts Kubernetes secrets and the logs of EKS cluster ${props.clusterName}`,
      removalPolicy,
    });

    // EKS would create this group itself, unencrypted and kept forever.
    const logGroup = new EncryptedLogGroup(this, 'ControlPlaneLogs', {
      encryptionKey: this.key,
      logGroupName: `/aws/eks/${props.clusterName}/cluster`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy,
    });

    // The policies AWS documents for Auto Mode nodes; the CDK's default adds broader legacy ones.
    this.nodeRole = new iam.Role(this, 'NodeRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `Auto Mode nodes of EKS cluster ${props.clusterName}`,
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEKSWorkerNodeMinimalPolicy'),
        iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEC2ContainerRegistryPullOnly'),
      ],
    });

    const publicAccessCidrs = props.publicAccessCidrs ?? [];
    this.cluster = new eks.Cluster(this, 'Resource', {
      clusterName: props.clusterName,
      version: eks.KubernetesVersion.of(version),
      vpc: props.vpc,
      vpcSubnets: [{ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }],
      endpointAccess:
        publicAccessCidrs.length > 0
          ? eks.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom(...publicAccessCidrs)
          : eks.EndpointAccess.PRIVATE,
      defaultCapacityType: eks.DefaultCapacityType.AUTOMODE,
      compute: { nodePools: ['system'], nodeRole: this.nodeRole },
      secretsEncryptionKey: this.key,
      clusterLogging: CONTROL_PLANE_LOGS,
      // Only the access entries below administer the cluster, not whoever ran the deployment.
      bootstrapClusterCreatorAdminPermissions: false,
      kubectlProviderOptions: { kubectlLayer: new KUBECTL_LAYERS[version](this, 'KubectlLayer') },
    });
    this.cluster.node.addDependency(logGroup);

    for (const principalArn of props.adminPrincipalArns ?? []) {
      // Keyed by the principal, so that removing one admin leaves the others' entries in place.
      this.cluster.grantClusterAdmin(`Admin-${principalArn.replace(/\//g, '-')}`, principalArn);
    }

    this.clusterConfig = this.cluster.addCdk8sChart(
      'ClusterConfig',
      new ClusterConfigChart(new cdk8s.App(), 'cluster-config', {
        nodeRoleName: this.nodeRole.roleName,
        nodeSubnetIds: props.vpc.privateSubnets.map((subnet) => subnet.subnetId),
        nodeSecurityGroupIds: [this.cluster.clusterSecurityGroupId],
        generalNodePool: props.generalNodePool,
      }),
    );

    this.keda = new Keda(this, 'Keda', { cluster: this.cluster });
    // KEDA's pods run on the general pool, which comes with the cluster-wide settings.
    this.keda.node.addDependency(this.clusterConfig);

    for (const [addonName, addonVersion] of Object.entries(props.addons ?? {})) {
      const addon =
        addonName === CONTAINER_INSIGHTS_ADDON
          ? new ContainerInsights(this, 'ContainerInsights', {
              cluster: this.cluster,
              clusterName: props.clusterName,
              addonVersion,
              encryptionKey: this.key,
              logRetention: props.containerLogRetention,
              removalPolicy,
            }).addon
          : new eks.Addon(this, `Addon-${addonName}`, { cluster: this.cluster, addonName, addonVersion });
      // Add-on pods need a node: the system pool admits only critical add-ons, the general pool comes with the chart.
      addon.node.addDependency(this.clusterConfig);
    }
    this.acknowledgeFindings(publicAccessCidrs);
  }

  private acknowledgeFindings(publicAccessCidrs: string[]): void {
    acknowledgeManagedPolicies(
      this.nodeRole,
      'The policies AWS documents for the EKS Auto Mode node role; AWS keeps them in step with what Auto Mode nodes need.',
    );
    acknowledgeManagedPolicies(
      this.cluster.role,
      'EKS Auto Mode requires these AWS-managed policies on the cluster role; AWS updates them as Auto Mode changes.',
    );
    const cfnCluster = this.cluster.node.defaultChild as Construct;
    Validations.of(cfnCluster).acknowledge({
      id: 'CloudFormation-Validate::W9009',
      reason: 'aws-eks-v2 renders EncryptionConfig.Resources ["secrets"], which EKS still documents as the way to encrypt secrets.',
    });
    if (publicAccessCidrs.length > 0) {
      Validations.of(cfnCluster).acknowledge({
        id: 'cdk-validator-cfnguard::eks_endpoint_no_public_access_check',
        reason: `The public endpoint admits only ${publicAccessCidrs.join(', ')} from config, whose schema forbids public access in production.`,
      });
    }

    // The CDK's kubectl provider: Lambdas the CDK builds and owns, which apply manifests during deployment.
    const reason = 'CDK-managed kubectl provider that applies manifests during deployment; the CDK owns its code, runtime and roles.';
    const provider = this.cluster.node.findChild('KubectlProvider');
    for (const role of provider.node.findAll().filter((child): child is iam.Role => child instanceof iam.Role)) {
      acknowledgeManagedPolicies(role, reason);
    }
    const handler = provider.node.findChild('Handler') as lambda.IFunction;
    acknowledgeWildcardResource(provider, `${handler.functionArn}:*`, `${reason} The framework may invoke only its handler's versions.`);
    Validations.of(provider).acknowledge(
      { id: 'AwsSolutions::AwsSolutions-L1', reason: `${reason} The CDK pins the runtime its bundled code was built for.` },
      { id: 'cdk-validator-cfnguard::cloudwatch_log_group_encrypted_check', reason: `${reason} Its logs hold no secrets.` },
    );
  }
}
