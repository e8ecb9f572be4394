import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';

/** Properties of an {@link EnforcingNodeClass}. */
export interface EnforcingNodeClassProps {
  /** Name of the NodeClass, which NodePools reference. */
  readonly name: string;
  /** Name of the IAM role of the nodes (it needs an access entry). */
  readonly role: string;
  /** Subnets the nodes launch in. */
  readonly subnetIds: string[];
  /** Security groups of the nodes. */
  readonly securityGroupIds: string[];
}

/**
 * An EKS Auto Mode NodeClass whose nodes enforce NetworkPolicies (the built-in one cannot), log
 * their policy decisions, and leave pods no policy selects reachable: namespaces bring their own
 * default-deny.
 */
export class EnforcingNodeClass extends ApiObject {
  constructor(scope: Construct, id: string, props: EnforcingNodeClassProps) {
    super(scope, id, {
      apiVersion: 'eks.amazonaws.com/v1',
      kind: 'NodeClass',
      metadata: { name: props.name },
      spec: {
        role: props.role,
        subnetSelectorTerms: props.subnetIds.map((subnetId) => ({ id: subnetId })),
        securityGroupSelectorTerms: props.securityGroupIds.map((groupId) => ({ id: groupId })),
        networkPolicy: 'DefaultAllow',
        networkPolicyEventLogs: 'Enabled',
        snatPolicy: 'Random',
      },
    });
  }
}
