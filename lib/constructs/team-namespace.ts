import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { TeamChart, TeamQuota } from '../../charts/team-chart';

/** Properties of a {@link TeamNamespace}. */
export interface TeamNamespaceProps {
  /** Cluster the namespace lives in. */
  readonly cluster: eks.ICluster;
  /** Team name, which is also its namespace. */
  readonly team: string;
  /** IAM principals that may edit the namespace. @default - none */
  readonly admins?: string[];
  /** IAM principals that may view the namespace and restart its models. @default - none */
  readonly members?: string[];
  /** The namespace's ResourceQuota. */
  readonly quota: TeamQuota;
  /** Models in other namespaces this team's pods may call directly. @default - none */
  readonly callableModels?: { readonly namespace: string; readonly model: string }[];
}

/**
 * A team on the platform: its namespace (the {@link TeamChart}) and, on the AWS side, one EKS
 * access entry per person or role, scoped to that namespace: admins edit, members view (and may
 * restart models through the chart's Role, bound to their Kubernetes group).
 */
export class TeamNamespace extends Construct {
  /** The manifest that creates the namespace; the team's models must follow it. */
  public readonly manifest: eks.KubernetesManifest;

  constructor(scope: Construct, id: string, props: TeamNamespaceProps) {
    super(scope, id);
    const membersGroup = `mlops:${props.team}:members`;

    this.manifest = new eks.KubernetesManifest(this, 'Chart', {
      cluster: props.cluster,
      manifest: new TeamChart(new cdk8s.App(), props.team, {
        team: props.team,
        quota: props.quota,
        membersGroup,
        callableModels: props.callableModels,
      }).toJson(),
    });

    const grants: [string[], string, string][] = [
      [props.admins ?? [], 'AmazonEKSEditPolicy', `mlops:${props.team}:admins`],
      [props.members ?? [], 'AmazonEKSViewPolicy', membersGroup],
    ];
    for (const [principals, policyName, group] of grants) {
      const policy = eks.AccessPolicy.fromAccessPolicyName(policyName, {
        accessScopeType: eks.AccessScopeType.NAMESPACE,
        namespaces: [props.team],
      });
      for (const principalArn of principals) {
        // The L2 AccessEntry has no Kubernetes groups, which the chart's RoleBinding names.
        new eks.CfnAccessEntry(this, `Access-${principalArn.replace(/\//g, '-')}`, {
          clusterName: props.cluster.clusterName,
          principalArn,
          type: 'STANDARD',
          kubernetesGroups: [group],
          accessPolicies: [{ policyArn: policy.policy, accessScope: { type: policy.accessScope.type, namespaces: policy.accessScope.namespaces } }],
        });
      }
    }
  }
}
