import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';

/**
 * The parts every platform HTTP workload shares: its service account, its rollout, its probes and
 * its Service, so that MLflow and the models behave alike.
 */

/** Name of the container port every platform workload serves HTTP on. */
export const HTTP_PORT_NAME = 'http';

/**
 * A rollout that starts one new pod and removes an old one only once the new one is ready, so
 * capacity never drops. Quota and pool checks count this extra pod (lib/config/capacity.ts).
 */
export const SURGE_ONE_ROLLOUT: k8s.DeploymentStrategy = {
  type: 'RollingUpdate',
  rollingUpdate: { maxSurge: k8s.IntOrString.fromNumber(1), maxUnavailable: k8s.IntOrString.fromNumber(0) },
};

/** An HTTP GET probe on the workload's named port. */
export function httpProbe(path: string, periodSeconds: number, failureThreshold: number): k8s.Probe {
  return { httpGet: { path, port: k8s.IntOrString.fromString(HTTP_PORT_NAME) }, periodSeconds, failureThreshold, timeoutSeconds: 5 };
}

/** A service account for pods that get AWS credentials from Pod Identity and never call the Kubernetes API. */
export class PodIdentityServiceAccount extends k8s.KubeServiceAccount {
  constructor(scope: Construct, id: string, metadata: k8s.ObjectMeta) {
    // Pod Identity injects its own credentials; no Kubernetes token is mounted.
    super(scope, id, { metadata, automountServiceAccountToken: false });
  }
}

/** A ClusterIP Service on port 80 for the pods `selector` names, to their HTTP port. */
export class HttpService extends k8s.KubeService {
  constructor(scope: Construct, id: string, metadata: k8s.ObjectMeta, selector: Record<string, string>) {
    super(scope, id, {
      metadata,
      spec: {
        type: 'ClusterIP',
        selector,
        ports: [{ name: HTTP_PORT_NAME, port: 80, targetPort: k8s.IntOrString.fromString(HTTP_PORT_NAME), protocol: 'TCP' }],
      },
    });
  }
}
