import { RemovalPolicy } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeManagedPolicies } from '../compliance';
import { EncryptedLogGroup } from './encrypted-log-group';
import { PodIdentityRole } from './pod-identity-role';

/** Name of the EKS add-on that runs Container Insights: the CloudWatch agent and Fluent Bit. */
export const CONTAINER_INSIGHTS_ADDON = 'amazon-cloudwatch-observability';

/** Where the add-on runs its agents, and the service account they share. */
const NAMESPACE = 'amazon-cloudwatch';
const SERVICE_ACCOUNT = 'cloudwatch-agent';

/**
 * The log groups the add-on writes, `/aws/containerinsights/<cluster>/<name>`: container output,
 * node services (kubelet, container runtime), node system logs, and the performance events
 * CloudWatch turns into Container Insights metrics.
 */
export const CONTAINER_INSIGHTS_LOG_GROUPS = ['application', 'dataplane', 'host', 'performance'] as const;

/** Properties of a {@link ContainerInsights}. */
export interface ContainerInsightsProps {
  /** Cluster whose containers and nodes are observed. */
  readonly cluster: eks.ICluster;
  /** Name of the cluster, as given at creation: it names the log groups, which must exist before the agents write. */
  readonly clusterName: string;
  /** Pinned version of the add-on; Pod Identity needs 3.1.0 or later. */
  readonly addonVersion: string;
  /** Customer-managed key that encrypts the log groups. */
  readonly encryptionKey: kms.IKey;
  /** Days to keep container, node and performance logs. @default RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** What happens to the log groups when they leave the stack. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * CloudWatch Container Insights through the `amazon-cloudwatch-observability` EKS add-on: node,
 * pod and container metrics, and every container's output kept in CloudWatch Logs after its pod
 * is gone. The log groups are created here first, encrypted and with a retention; otherwise the
 * agents would create them unencrypted and kept forever. The agents get their AWS credentials
 * through Pod Identity, which the add-on associates as it installs them, so no agent pod starts
 * without credentials.
 */
export class ContainerInsights extends Construct {
  /** The add-on. */
  public readonly addon: eks.Addon;
  /** Role of the agents' service account. */
  public readonly role: iam.Role;
  /** The log groups the agents write, by their last name segment. */
  public readonly logGroups: Record<(typeof CONTAINER_INSIGHTS_LOG_GROUPS)[number], logs.LogGroup>;

  constructor(scope: Construct, id: string, props: ContainerInsightsProps) {
    super(scope, id);

    const identity = new PodIdentityRole(this, 'AgentRole', {
      cluster: props.cluster,
      namespace: NAMESPACE,
      serviceAccount: SERVICE_ACCOUNT,
      description: `CloudWatch agent and Fluent Bit of EKS cluster ${props.clusterName} (Container Insights)`,
      // The add-on creates the association itself (below); a second one for the same service account would fail.
      createAssociation: false,
    });
    this.role = identity.role;
    this.role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('CloudWatchAgentServerPolicy'));
    acknowledgeManagedPolicies(
      this.role,
      'The policy AWS documents for the amazon-cloudwatch-observability add-on; AWS keeps it in step with what its agents write.',
    );

    const logGroups = CONTAINER_INSIGHTS_LOG_GROUPS.map(
      (name) =>
        [
          name,
          new EncryptedLogGroup(this, `${name[0].toUpperCase()}${name.slice(1)}Logs`, {
            encryptionKey: props.encryptionKey,
            logGroupName: `/aws/containerinsights/${props.clusterName}/${name}`,
            retention: props.logRetention,
            removalPolicy: props.removalPolicy,
          }).logGroup,
        ] as const,
    );
    this.logGroups = Object.fromEntries(logGroups) as ContainerInsights['logGroups'];

    this.addon = new eks.Addon(this, 'Addon', {
      cluster: props.cluster,
      addonName: CONTAINER_INSIGHTS_ADDON,
      addonVersion: props.addonVersion,
    });
    // The Addon L2 has no property for it; the association references the role, so the role is created first.
    (this.addon.node.defaultChild as eks.CfnAddon).podIdentityAssociations = [
      { serviceAccount: SERVICE_ACCOUNT, roleArn: this.role.roleArn },
    ];
    for (const [, logGroup] of logGroups) {
      this.addon.node.addDependency(logGroup);
    }
  }
}
