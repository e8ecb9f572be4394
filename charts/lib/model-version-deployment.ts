import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { GENERAL_NODE_POOL } from '../../lib/config/platform-names';
import { GPU_RESOURCE, NODE_POOL_LABEL } from '../cluster-config-chart';
import { DeploymentScaledObject, RequestRateTrigger, ScheduleWindow } from './deployment-scaled-object';
import { HTTP_PORT_NAME, HttpService, httpProbe, SURGE_ONE_ROLLOUT } from './http-workload';
import {
  oneAtATimeDisruptionBudget,
  preferSeparateNodes,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
  scratchVolume,
  zoneAndNodeSpread,
} from './workload-hardening';

/** Port the MLflow scoring server listens on in the pod. */
export const SCORING_PORT = 8080;

/** Where `mlflow models build-docker` puts the model in the image. */
export const MODEL_PATH = '/opt/ml/model';

/**
 * Seconds a stopping pod keeps serving: the load balancer deregisters its IP (a 30 s draining
 * delay) while requests already routed to it still arrive, and the scoring server closes its
 * listener at once on SIGTERM, so it waits this long first.
 */
export const DRAIN_SECONDS = 15;

/** CPU, memory and GPUs of one pod. */
export interface ModelResources {
  /** CPU request in millicores. */
  readonly cpuRequestMillicores: number;
  /** CPU limit in millicores. */
  readonly cpuLimitMillicores: number;
  /** Memory request in MiB. */
  readonly memoryRequestMiB: number;
  /** Memory limit in MiB. */
  readonly memoryLimitMiB: number;
}

/** Properties of a {@link ModelVersionDeployment}. */
export interface ModelVersionDeploymentProps {
  /** Name of the Deployment, Service, autoscaler and disruption budget: `<model>-<version>`. */
  readonly name: string;
  /** The team's namespace. */
  readonly namespace: string;
  /** Labels of every object, and the pods' selector. */
  readonly labels: Record<string, string>;
  /** Service account the pods run as (the model's, with its Pod Identity role). */
  readonly serviceAccountName: string;
  /** MLflow registered model the image was built from. */
  readonly registeredModel: string;
  /** Registry alias the image was built from. @default - a version is given instead */
  readonly alias?: string;
  /** Registry version the image was built from. @default - an alias is given instead */
  readonly version?: number;
  /** Image URI, with its immutable tag. */
  readonly image: string;
  /** The image tag alone, recorded on the pods. */
  readonly imageTag: string;
  /** Per-pod CPU and memory. */
  readonly resources: ModelResources;
  /** Scoring server worker processes per pod. */
  readonly workers: number;
  /** GPUs per pod and their pool. @default - a CPU model on the general pool */
  readonly gpu?: { readonly pool: string; readonly count: number };
  /** Fewest pods (during working hours, when those are set). */
  readonly minReplicas: number;
  /** Most pods. */
  readonly maxReplicas: number;
  /** Average CPU use, as a percentage of the request, the autoscaler aims for. */
  readonly targetCpuUtilization: number;
  /** Known busy hours, each with a higher floor, kept ahead of the spike. @default - none */
  readonly peakWindows?: ScheduleWindow[];
  /** Hours the version runs at all; outside them it has no pods (development only). @default - always running */
  readonly workingHours?: Omit<ScheduleWindow, 'minReplicas'>;
  /** Scale on the requests the load balancer sends each pod, besides CPU. @default - CPU and windows only */
  readonly requestRate?: RequestRateTrigger;
  /** Longest time the model may take to load, in seconds. */
  readonly startupSeconds: number;
}

/**
 * One version of a model as its own failure domain: a Deployment serving the MLflow scoring
 * protocol from the version's image (the model is baked in, so scaling out never waits on MLflow),
 * a Service, a KEDA autoscaler tuned for sudden spikes and known busy hours, a disruption budget,
 * and spread over zones and nodes.
 */
export class ModelVersionDeployment extends Construct {
  constructor(scope: Construct, id: string, props: ModelVersionDeploymentProps) {
    super(scope, id);
    const { name, namespace, labels, resources } = props;
    const metadata = { name, namespace, labels };
    const gpus: Record<string, k8s.Quantity> = props.gpu ? { [GPU_RESOURCE]: k8s.Quantity.fromNumber(props.gpu.count) } : {};
    const scratch = scratchVolume();

    new k8s.KubeDeployment(this, 'Deployment', {
      metadata,
      spec: {
        // No replicas: the autoscaler owns the count, and a redeploy must not reset it.
        selector: { matchLabels: labels },
        strategy: SURGE_ONE_ROLLOUT,
        template: {
          metadata: {
            labels,
            annotations: {
              'mlops.platform/registered-model': props.registeredModel,
              ...(props.alias ? { 'mlops.platform/model-alias': props.alias } : {}),
              ...(props.version ? { 'mlops.platform/model-version': String(props.version) } : {}),
              'mlops.platform/image-tag': props.imageTag,
            },
          },
          spec: {
            serviceAccountName: props.serviceAccountName,
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurityContext(),
            topologySpreadConstraints: zoneAndNodeSpread(labels),
            affinity: preferSeparateNodes(labels),
            nodeSelector: { [NODE_POOL_LABEL]: props.gpu?.pool ?? GENERAL_NODE_POOL },
            tolerations: props.gpu ? [{ key: GPU_RESOURCE, operator: 'Exists', effect: 'NoSchedule' }] : undefined,
            terminationGracePeriodSeconds: DRAIN_SECONDS + 30,
            containers: [
              {
                name: 'model',
                image: props.image,
                // The image's own entrypoint starts nginx, which writes under /var at start (the root
                // filesystem is read-only here) and sizes workers by the node's CPUs, not the pod's.
                // The scoring app it fronts is started directly instead, on all interfaces.
                command: ['python', '-m', 'uvicorn'],
                args: [
                  '--host', '0.0.0.0',
                  '--port', String(SCORING_PORT),
                  '--workers', String(props.workers),
                  'mlflow.pyfunc.scoring_server.app:app',
                ],
                ports: [{ name: HTTP_PORT_NAME, containerPort: SCORING_PORT, protocol: 'TCP' }],
                env: [
                  { name: '__pyfunc_model_path__', value: MODEL_PATH },
                  { name: 'HOME', value: '/tmp' },
                  { name: 'PYTHONDONTWRITEBYTECODE', value: '1' },
                ],
                resources: {
                  requests: {
                    cpu: k8s.Quantity.fromString(`${resources.cpuRequestMillicores}m`),
                    memory: k8s.Quantity.fromString(`${resources.memoryRequestMiB}Mi`),
                    ...gpus,
                  },
                  limits: {
                    cpu: k8s.Quantity.fromString(`${resources.cpuLimitMillicores}m`),
                    memory: k8s.Quantity.fromString(`${resources.memoryLimitMiB}Mi`),
                    ...gpus,
                  },
                },
                // Liveness only starts once the model has loaded, so a slow load is never killed in a loop.
                startupProbe: httpProbe('/ping', 10, Math.ceil(props.startupSeconds / 10)),
                readinessProbe: httpProbe('/ping', 5, 3),
                livenessProbe: httpProbe('/ping', 10, 3),
                lifecycle: { preStop: { exec: { command: ['sleep', String(DRAIN_SECONDS)] } } },
                securityContext: restrictedContainerSecurityContext(),
                volumeMounts: [scratch.mount],
              },
            ],
            volumes: [scratch.volume],
          },
        },
      },
    });

    new HttpService(this, 'Service', metadata, labels);

    new DeploymentScaledObject(this, 'Autoscaler', {
      name,
      namespace,
      labels,
      // Working hours are a window like the peaks, at the usual floor; outside all of them, no pods.
      minReplicas: props.workingHours ? 0 : props.minReplicas,
      maxReplicas: props.maxReplicas,
      targetCpuUtilization: props.targetCpuUtilization,
      requestRate: props.requestRate,
      windows: [
        ...(props.workingHours ? [{ ...props.workingHours, minReplicas: props.minReplicas }] : []),
        ...(props.peakWindows ?? []),
      ],
    });

    oneAtATimeDisruptionBudget(this, 'DisruptionBudget', { name, namespace, labels, matchLabels: labels });
  }
}
