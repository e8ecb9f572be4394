import { k8s } from 'cdk8s-plus-27';

/** Where Auto Mode's Pod Identity agent hands out credentials, on every node. */
const POD_IDENTITY_AGENT_CIDR = '169.254.170.23/32';

/** A TCP port in a NetworkPolicy rule. */
export function tcpPort(port: number): k8s.NetworkPolicyPort {
  return { protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) };
}

/**
 * Egress a pod with an IAM role needs: AWS APIs over HTTPS at `apiCidrs` (the interface endpoints'
 * subnets, or any address where pods reach AWS through NAT) and the node's Pod Identity agent,
 * without which it gets no credentials.
 */
export function awsApiEgress(apiCidrs: readonly string[]): k8s.NetworkPolicyEgressRule[] {
  return [
    { to: apiCidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [tcpPort(443)] },
    { to: [{ ipBlock: { cidr: POD_IDENTITY_AGENT_CIDR } }], ports: [tcpPort(80)] },
  ];
}
