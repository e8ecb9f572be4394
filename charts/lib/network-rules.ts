import { k8s } from 'cdk8s-plus-27';

/** Where Auto Mode's Pod Identity agent hands out credentials, on every node. */
const POD_IDENTITY_AGENT_CIDR = '169.254.170.23/32';

/** Egress to the node's Pod Identity agent: without it a pod with an IAM role gets no credentials. */
export function podIdentityAgentEgress(): k8s.NetworkPolicyEgressRule {
  return {
    to: [{ ipBlock: { cidr: POD_IDENTITY_AGENT_CIDR } }],
    ports: [{ protocol: 'TCP', port: k8s.IntOrString.fromNumber(80) }],
  };
}
