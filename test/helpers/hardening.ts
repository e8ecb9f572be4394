/**
 * The security context every platform container must have: Pod Security Admission `restricted`
 * with a read-only root filesystem. Written out here rather than read from
 * charts/lib/workload-hardening.ts, so that a chart test cannot pass by asking the code it tests.
 */
export const RESTRICTED_CONTAINER_SECURITY_CONTEXT = {
  allowPrivilegeEscalation: false,
  privileged: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};
