import { k8s } from 'cdk8s-plus-27';

/**
 * A rendered Kubernetes object. cdk8s's generated interfaces use the API's own field names, so
 * they type the rendered JSON too (quantities and int-or-strings come out as plain values).
 */
export interface KubeObject<Spec = unknown> {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: k8s.ObjectMeta;
  readonly spec: Spec;
  readonly [field: string]: unknown;
}

/** The object of `kind` (and `name`, if given); throws when there is none. */
export function findObject<Spec>(objects: readonly KubeObject[], kind: string, name?: string): KubeObject<Spec> {
  const found = objects.find((object) => object.kind === kind && (name === undefined || object.metadata.name === name));
  if (!found) {
    throw new Error(`no ${kind} ${name ?? ''}`);
  }
  return found as KubeObject<Spec>;
}

/** Every object of `kind`. */
export function objectsOfKind<Spec>(objects: readonly KubeObject[], kind: string): KubeObject<Spec>[] {
  return objects.filter((object) => object.kind === kind) as KubeObject<Spec>[];
}

/** A container's environment as name → value. */
export function envOf(container: k8s.Container): Record<string, string | undefined> {
  return Object.fromEntries((container.env ?? []).map((entry) => [entry.name, entry.value]));
}
