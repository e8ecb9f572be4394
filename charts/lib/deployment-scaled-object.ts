import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';

/** API version of KEDA's ScaledObject. */
export const SCALED_OBJECT_API_VERSION = 'keda.sh/v1alpha1';

/**
 * Hours with a higher floor, as KEDA `cron` expressions: between `start` and `end` the
 * Deployment keeps at least `minReplicas` pods, whatever its CPU use.
 */
export interface ScheduleWindow {
  /** IANA time zone the expressions are read in, e.g. `Europe/Dublin`. */
  readonly timezone: string;
  /** Five-field cron expression at which the window opens, e.g. `30 7 * * 1-5`. */
  readonly start: string;
  /** Five-field cron expression at which the window closes, e.g. `0 10 * * 1-5`. */
  readonly end: string;
  /** Fewest pods while the window is open. */
  readonly minReplicas: number;
}

/** Properties of a {@link DeploymentScaledObject}. */
export interface DeploymentScaledObjectProps {
  /** Name and namespace of the Deployment scaled; the ScaledObject and its HPA take the same name. */
  readonly name: string;
  /** Namespace of the Deployment. */
  readonly namespace: string;
  /** Labels of the ScaledObject. */
  readonly labels: Record<string, string>;
  /** Fewest pods outside the windows; 0 lets KEDA remove every pod when no window is open. */
  readonly minReplicas: number;
  /** Most pods. */
  readonly maxReplicas: number;
  /** Average CPU use, as a percentage of the request, to aim for. */
  readonly targetCpuUtilization: number;
  /** Windows with a higher floor. @default - none */
  readonly windows?: ScheduleWindow[];
}

/**
 * A KEDA ScaledObject that scales a Deployment on CPU use and, through `cron` triggers, keeps a
 * higher floor during known busy hours. KEDA runs it as an HPA named after the Deployment, so an
 * HPA of that name left from before KEDA is adopted instead of competing with KEDA's own.
 */
export class DeploymentScaledObject extends ApiObject {
  constructor(scope: Construct, id: string, props: DeploymentScaledObjectProps) {
    super(scope, id, {
      apiVersion: SCALED_OBJECT_API_VERSION,
      kind: 'ScaledObject',
      metadata: {
        name: props.name,
        namespace: props.namespace,
        labels: props.labels,
        // KEDA's admission webhook refuses a ScaledObject for a Deployment another HPA scales,
        // unless it takes that HPA over, named in horizontalPodAutoscalerConfig below.
        annotations: { 'scaledobject.keda.sh/transfer-hpa-ownership': 'true' },
      },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: props.name },
        minReplicaCount: props.minReplicas,
        maxReplicaCount: props.maxReplicas,
        advanced: {
          horizontalPodAutoscalerConfig: {
            name: props.name,
            behavior: {
              // A spike doubles the pods (or adds four) every 15 s, without waiting.
              scaleUp: {
                stabilizationWindowSeconds: 0,
                selectPolicy: 'Max',
                policies: [
                  { type: 'Percent', value: 100, periodSeconds: 15 },
                  { type: 'Pods', value: 4, periodSeconds: 15 },
                ],
              },
              // Quiet minutes release a tenth of the pods a minute, after five calm minutes.
              scaleDown: {
                stabilizationWindowSeconds: 300,
                selectPolicy: 'Min',
                policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }],
              },
            },
          },
        },
        triggers: [
          { type: 'cpu', metricType: 'Utilization', metadata: { value: String(props.targetCpuUtilization) } },
          // A cron trigger reports desiredReplicas while its window is open; the HPA takes the
          // largest of its metrics, so the window raises the floor and CPU can still go higher.
          ...(props.windows ?? []).map((window) => ({
            type: 'cron',
            metadata: { timezone: window.timezone, start: window.start, end: window.end, desiredReplicas: String(window.minReplicas) },
          })),
        ],
      },
    });
  }
}
