import { k8s } from 'cdk8s-plus-27';
import { KubeObject } from './kube-objects';

/** JSON with object keys sorted, so that two equal selectors print alike whatever order their keys were written in. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonical).join(',')}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonical(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Every (peer, port) pair the egress rules of these NetworkPolicies allow, one line each; `any` for a rule without peers. */
export function egressPairs(policies: KubeObject<k8s.NetworkPolicySpec>[]): string[] {
  return policies
    .flatMap((policy) => policy.spec.egress ?? [])
    .flatMap((rule) =>
      (rule.to ?? [{}]).flatMap((peer) =>
        (rule.ports ?? []).map((port) => `${Object.keys(peer).length === 0 ? 'any' : canonical(peer)} ${port.protocol}/${port.port}`),
      ),
    )
    .sort();
}
