import { k8s } from 'cdk8s-plus-27';

/** Where Auto Mode's Pod Identity agent hands out credentials, on every node. */
const POD_IDENTITY_AGENT_CIDR = '169.254.170.23/32';

/** A TCP port in a NetworkPolicy rule. */
export function tcpPort(port: number): k8s.NetworkPolicyPort {
  return { protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) };
}

/** Egress to the node's Pod Identity agent: without it a pod with an IAM role gets no credentials. */
export function podIdentityAgentEgress(): k8s.NetworkPolicyEgressRule {
  return { to: [{ ipBlock: { cidr: POD_IDENTITY_AGENT_CIDR } }], ports: [tcpPort(80)] };
}

/** Egress to AWS APIs (S3 through the gateway endpoint, STS, Secrets Manager) over HTTPS. */
export function httpsEgress(): k8s.NetworkPolicyEgressRule {
  return { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [tcpPort(443)] };
}
