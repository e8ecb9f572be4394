import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { GENERAL_NODE_POOL } from '../../lib/config/platform-names';
import { DEFAULT_ROUTER_REPLICAS, ROUTER_RESOURCES } from '../../lib/config/router-sizing';
import { NODE_POOL_LABEL } from '../cluster-config-chart';
import { HTTP_PORT_NAME, HttpService, httpProbe, SURGE_ONE_ROLLOUT } from './http-workload';
import { modelRouterConfig, ROUTER_PING_PATH, ROUTER_PORT, RouterTimeouts, RouterUpstream, ShadowUpstream } from './model-router-config';
import {
  oneAtATimeDisruptionBudget,
  preferSeparateNodes,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  scratchVolume,
  zoneAndNodeSpread,
} from './workload-hardening';

/** Folder of the router image's Dockerfile (Debian's nginx, the version the runtime tier runs). */
export const MODEL_ROUTER_IMAGE_DIRECTORY = path.join(__dirname, '..', '..', 'images', 'model-router');

/** Where the ConfigMap holding nginx.conf is mounted in the router's container. */
export const ROUTER_CONFIG_DIRECTORY = '/opt/model-router';

/** Key of nginx.conf in the router's ConfigMap. */
export const ROUTER_CONFIG_FILE = 'nginx.conf';

/** Pod template annotation holding the SHA-256 of nginx.conf, so that a changed config rolls the pods. */
export const ROUTER_CONFIG_HASH_ANNOTATION = 'mlops.platform/router-config-sha256';

/**
 * Seconds a stopping router keeps serving before nginx is told to stop, so that the load balancer
 * has stopped sending it requests (deregistration takes a few seconds to reach every node of the
 * load balancer).
 */
const DRAIN_SECONDS = 15;

/** Properties of a {@link ModelRouter}. */
export interface ModelRouterProps {
  /** Name of the router's ConfigMap, Deployment, Service and disruption budget, e.g. `fraud-scorer-router`. */
  readonly name: string;
  /** Namespace of the model (its team's). */
  readonly namespace: string;
  /** Labels added to every object and pod (the router's own selector is added). @default - none */
  readonly labels?: Record<string, string>;
  /** Router image URI (built from {@link MODEL_ROUTER_IMAGE_DIRECTORY}). */
  readonly image: string;
  /** The version every request goes to first: its Service's in-cluster host name and port. */
  readonly primary: RouterUpstream;
  /** The version requests go to when the primary cannot answer. @default - none: the router answers 503 */
  readonly fallback?: RouterUpstream;
  /** The version receiving copies of a sample of the scoring requests. @default - no copies */
  readonly shadow?: ShadowUpstream;
  /** Timeouts of the router. @default DEFAULT_ROUTER_TIMEOUTS */
  readonly timeouts?: Partial<RouterTimeouts>;
  /** Router pods, spread over zones. @default DEFAULT_ROUTER_REPLICAS */
  readonly replicas?: number;
}

/**
 * A model's router: nginx in front of its versions, for a shadow and a fallback, which the load
 * balancer cannot do (docs/design/model-router.md). A ConfigMap with the nginx.conf of
 * {@link modelRouterConfig}; a Deployment of hardened pods spread over zones, rolled when the
 * config changes; a Service on port 80 (port name `http`) for the load balancer's target group
 * binding; and a disruption budget. The NetworkPolicies letting the load balancer reach the router
 * and the router reach the versions belong to the model's chart.
 *
 * nginx resolves the versions' Service names once, when it starts, and exits while one does not
 * exist: the pod restarts until the Services, applied with it, exist. A Service's address is fixed
 * for its lifetime; a Service deleted and created again needs the router restarted.
 */
export class ModelRouter extends Construct {
  /** Name of the router's Service. */
  public readonly serviceName: string;
  /** Labels selecting the router's pods. */
  public readonly selector: Record<string, string>;
  /** The rendered nginx.conf. */
  public readonly config: string;

  constructor(scope: Construct, id: string, props: ModelRouterProps) {
    super(scope, id);
    const { name, namespace } = props;
    this.serviceName = name;
    this.selector = { 'app.kubernetes.io/name': name };
    const labels = { ...props.labels, ...this.selector, 'app.kubernetes.io/component': 'router' };
    const metadata = { name, namespace, labels };
    this.config = modelRouterConfig({ primary: props.primary, fallback: props.fallback, shadow: props.shadow, timeouts: props.timeouts });

    new k8s.KubeConfigMap(this, 'Config', { metadata, data: { [ROUTER_CONFIG_FILE]: this.config } });

    const scratch = scratchVolume();
    new k8s.KubeDeployment(this, 'Deployment', {
      metadata,
      spec: {
        replicas: props.replicas ?? DEFAULT_ROUTER_REPLICAS,
        selector: { matchLabels: this.selector },
        strategy: SURGE_ONE_ROLLOUT,
        template: {
          metadata: {
            labels,
            annotations: { [ROUTER_CONFIG_HASH_ANNOTATION]: createHash('sha256').update(this.config).digest('hex') },
          },
          spec: {
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurityContext(),
            topologySpreadConstraints: zoneAndNodeSpread(this.selector),
            affinity: preferSeparateNodes(this.selector),
            nodeSelector: { [NODE_POOL_LABEL]: GENERAL_NODE_POOL },
            // The drain, then nginx's graceful stop (the image's stop signal is SIGQUIT) finishing its requests.
            terminationGracePeriodSeconds: DRAIN_SECONDS + 30,
            containers: [
              {
                name: 'router',
                image: props.image,
                command: ['nginx'],
                args: ['-c', `${ROUTER_CONFIG_DIRECTORY}/${ROUTER_CONFIG_FILE}`, '-e', 'stderr'],
                ports: [{ name: HTTP_PORT_NAME, containerPort: ROUTER_PORT, protocol: 'TCP' }],
                resources: {
                  requests: {
                    cpu: k8s.Quantity.fromString(`${ROUTER_RESOURCES.cpuRequestMillicores}m`),
                    memory: k8s.Quantity.fromString(`${ROUTER_RESOURCES.memoryRequestMiB}Mi`),
                  },
                  limits: {
                    cpu: k8s.Quantity.fromString(`${ROUTER_RESOURCES.cpuLimitMillicores}m`),
                    memory: k8s.Quantity.fromString(`${ROUTER_RESOURCES.memoryLimitMiB}Mi`),
                  },
                },
                // nginx starts in milliseconds; 30 s of startup probes cover a start that waits for the versions' Services.
                startupProbe: httpProbe(ROUTER_PING_PATH, 2, 15),
                readinessProbe: httpProbe(ROUTER_PING_PATH, 5, 3),
                livenessProbe: httpProbe(ROUTER_PING_PATH, 10, 3),
                lifecycle: { preStop: { exec: { command: ['sleep', String(DRAIN_SECONDS)] } } },
                securityContext: restrictedContainerSecurityContext(),
                volumeMounts: [scratch.mount, { name: 'config', mountPath: ROUTER_CONFIG_DIRECTORY, readOnly: true }],
              },
            ],
            volumes: [scratch.volume, { name: 'config', configMap: { name } }],
          },
        },
      },
    });

    new HttpService(this, 'Service', metadata, this.selector);

    oneAtATimeDisruptionBudget(this, 'DisruptionBudget', { name, namespace, labels, matchLabels: this.selector });
  }
}
