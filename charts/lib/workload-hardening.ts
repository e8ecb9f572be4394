import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';

/**
 * The hardening every platform pod gets, in one place: the fields cdk8s-plus-27's workload
 * constructs cannot set (seccomp, dropped capabilities, topology spread, disruption budgets),
 * written with the typed `k8s` objects it ships rather than JSON patches.
 */

/** Numeric user and group of platform images, so that `runAsNonRoot` can be verified by the kubelet. */
export const NON_ROOT_ID = 10001;

/** Mount path of the writable scratch volume; the root filesystem is read-only. */
export const SCRATCH_PATH = '/tmp';

/** Pod-level security context meeting Pod Security Admission `restricted`. */
export function restrictedPodSecurityContext(id: number = NON_ROOT_ID): k8s.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: id,
    runAsGroup: id,
    fsGroup: id,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Container-level security context meeting Pod Security Admission `restricted`, with a read-only root filesystem. */
export function restrictedContainerSecurityContext(): k8s.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** The emptyDir that backs {@link SCRATCH_PATH}, bounded so a runaway process cannot fill the node's disk. */
export function scratchVolume(sizeLimit = '1Gi'): { volume: k8s.Volume; mount: k8s.VolumeMount } {
  return {
    volume: { name: 'scratch', emptyDir: { sizeLimit: k8s.Quantity.fromString(sizeLimit) } },
    mount: { name: 'scratch', mountPath: SCRATCH_PATH },
  };
}

/**
 * Spread replicas over zones (strictly) and nodes (best effort), so that losing one node or one
 * zone cannot take every replica down.
 */
export function zoneAndNodeSpread(matchLabels: Record<string, string>): k8s.TopologySpreadConstraint[] {
  return [
    { topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels } },
    { topologyKey: 'kubernetes.io/hostname', maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels } },
  ];
}

/** Prefer a node no other replica is on, so that one node's loss takes at most one replica. */
export function preferSeparateNodes(matchLabels: Record<string, string>): k8s.Affinity {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels } } },
      ],
    },
  };
}

/**
 * A disruption budget letting voluntary evictions (node consolidation, upgrades) take one
 * replica at a time. `maxUnavailable` rather than `minAvailable` so that a single-replica
 * development workload does not block node drains forever. It carries the workload's `labels`,
 * so that a label query for the workload's objects finds it too.
 */
export function oneAtATimeDisruptionBudget(
  scope: Construct,
  id: string,
  props: { name: string; namespace: string; labels: Record<string, string>; matchLabels: Record<string, string> },
): k8s.KubePodDisruptionBudget {
  return new k8s.KubePodDisruptionBudget(scope, id, {
    metadata: { name: props.name, namespace: props.namespace, labels: props.labels },
    spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: props.matchLabels } },
  });
}
