import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { CLUSTER_TRIGGER_AUTHENTICATION_KIND } from './cloudwatch-trigger-authentication';

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

/**
 * Requests through the load balancer, read from CloudWatch: the ALB's `RequestCount` of one target group, summed
 * per minute. The HPA divides it by the pods running (`AverageValue`), so the pods wanted are the requests of the
 * last minute over each pod's share, whatever the group's targets are (this version's pods or a router in front).
 */
export interface RequestRateTrigger {
  /** Full name of the load balancer, `app/<name>/<id>` (`loadBalancerFullName`, a token at synth). */
  readonly loadBalancerFullName: string;
  /** Full name of the counted target group, `targetgroup/<name>/<id>` (`targetGroupFullName`, a token at synth). */
  readonly targetGroupFullName: string;
  /** Region of the load balancer, where its metrics are. */
  readonly region: string;
  /** Requests per second one pod sustains within its SLO (the config's measured `podRequestsPerSecond`). */
  readonly podRequestsPerSecond: number;
  /** Share of `podRequestsPerSecond` each pod is aimed at, in percent; the rest covers the minutes new pods take. @default 70 */
  readonly targetPercent?: number;
  /** Name of the ClusterTriggerAuthentication with which KEDA's operator calls CloudWatch. */
  readonly authenticationName: string;
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
  /** Scaling on the load balancer's request count as well. @default - CPU and windows only */
  readonly requestRate?: RequestRateTrigger;
}

/**
 * A KEDA ScaledObject that scales a Deployment on CPU use and, optionally, on the requests its load
 * balancer target group receives, and through `cron` triggers keeps a higher floor during known busy
 * hours. KEDA runs it as an HPA named after the Deployment, so an HPA of that name left from before
 * KEDA is adopted instead of competing with KEDA's own. docs/design/autoscaling.md times each step.
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
          ...(props.requestRate ? [requestRateTrigger(props.requestRate)] : []),
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

/** ALBs send their metrics every 60 seconds (ELB User Guide, "CloudWatch metrics for your Application Load Balancer"). */
const ALB_METRIC_PERIOD_SECONDS = 60;

/**
 * The `aws-cloudwatch` trigger (KEDA 2.20 `pkg/scalers/aws_cloudwatch_scaler.go`). KEDA takes the newest
 * datapoint between `metricCollectionTime` ago and the last whole minute. With no `metricEndTimeOffset` that may be
 * a minute CloudWatch has not received in full, which can only under-count: the scale-down stabilisation window
 * ignores the dip, while skipping that minute would delay every scale-up by one. Five minutes of datapoints outlast
 * a publication delay of a few minutes; a target group with no requests has none, and `minMetricValue` 0 then
 * wants no pods.
 */
function requestRateTrigger(requestRate: RequestRateTrigger): Record<string, unknown> {
  const targetPercent = requestRate.targetPercent ?? 70;
  if (!(targetPercent > 0 && targetPercent <= 100)) {
    throw new Error(`requestRate.targetPercent must be above 0 and at most 100, got ${targetPercent}`);
  }
  const requestsPerPodPerPeriod = (requestRate.podRequestsPerSecond * ALB_METRIC_PERIOD_SECONDS * targetPercent) / 100;
  return {
    type: 'aws-cloudwatch',
    metricType: 'AverageValue',
    authenticationRef: { name: requestRate.authenticationName, kind: CLUSTER_TRIGGER_AUTHENTICATION_KIND },
    metadata: {
      awsRegion: requestRate.region,
      namespace: 'AWS/ApplicationELB',
      metricName: 'RequestCount',
      // CloudWatch serves a metric only by the dimensions it was published with: per target group, both of these.
      dimensionName: 'LoadBalancer;TargetGroup',
      dimensionValue: `${requestRate.loadBalancerFullName};${requestRate.targetGroupFullName}`,
      metricStat: 'Sum',
      metricStatPeriod: String(ALB_METRIC_PERIOD_SECONDS),
      metricCollectionTime: String(5 * ALB_METRIC_PERIOD_SECONDS),
      metricEndTimeOffset: '0',
      // KEDA reads it in thousandths.
      targetMetricValue: String(Number(requestsPerPodPerPeriod.toFixed(3))),
      // KEDA 2.20 requires it, whatever its docs say.
      minMetricValue: '0',
    },
  };
}
