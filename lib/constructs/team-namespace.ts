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
  /** IAM principals that may run workloads in the namespace, but not change its network. @default - none */
  readonly admins?: string[];
  /** IAM principals that may view the namespace and restart its models. @default - none */
  readonly members?: string[];
  /** The namespace's ResourceQuota. */
  readonly quota: TeamQuota;
  /** Models in other namespaces this team's pods may call directly. @default - none */
  readonly callableModels?: { readonly namespace: string; readonly model: string }[];
  /** CIDRs where the pods reach AWS APIs over HTTPS: the interface endpoints' subnets, or 0.0.0.0/0 where they go through NAT. */
  readonly awsApiCidrs: string[];
}

/**
 * A team on the platform: its namespace (the {@link TeamChart}) and, on the AWS side, one EKS
 * access entry per person or role. Every entry may view the namespace (AmazonEKSViewPolicy scoped
 * to it) and is mapped to the admins' or the members' Kubernetes group, which the chart's Roles
 * grant the rest: admins run workloads, members restart models. No entry gets AmazonEKSEditPolicy,
 * which would let admins create Ingresses, NetworkPolicies and LoadBalancer Services: EKS grants
 * what either an access policy or RBAC allows, so only leaving it out keeps those refused.
 */
export class TeamNamespace extends Construct {
  /** The team's name, which is its namespace's. */
  public readonly team: string;
  /** The manifest that creates the namespace; the team's models must follow it. */
  public readonly manifest: eks.KubernetesManifest;

  constructor(scope: Construct, id: string, props: TeamNamespaceProps) {
    super(scope, id);
    this.team = props.team;
    const adminsGroup = `mlops:${props.team}:admins`;
    const membersGroup = `mlops:${props.team}:members`;

    this.manifest = new eks.KubernetesManifest(this, 'Chart', {
      cluster: props.cluster,
      manifest: new TeamChart(new cdk8s.App(), props.team, {
        team: props.team,
        quota: props.quota,
        adminsGroup,
        membersGroup,
        callableModels: props.callableModels,
        awsApiCidrs: props.awsApiCidrs,
      }).toJson(),
    });

    const view = eks.AccessPolicy.fromAccessPolicyName('AmazonEKSViewPolicy', {
      accessScopeType: eks.AccessScopeType.NAMESPACE,
      namespaces: [props.team],
    });
    const grants: [string[], string][] = [
      [props.admins ?? [], adminsGroup],
      [props.members ?? [], membersGroup],
    ];
    for (const [principals, group] of grants) {
      for (const principalArn of principals) {
        // The L2 AccessEntry has no Kubernetes groups, which the chart's RoleBindings name.
        new eks.CfnAccessEntry(this, `Access-${principalArn.replace(/\//g, '-')}`, {
          clusterName: props.cluster.clusterName,
          principalArn,
          type: 'STANDARD',
          kubernetesGroups: [group],
          accessPolicies: [{ policyArn: view.policy, accessScope: { type: view.accessScope.type, namespaces: view.accessScope.namespaces } }],
        });
      }
    }
  }
}
