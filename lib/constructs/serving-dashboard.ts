import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';

/** One version of a model on the dashboard. */
export interface ServingDashboardVersion {
  /** Version name, shown in the graph titles. */
  readonly name: string;
  /** Full name of the version's target group (`targetgroup/<name>/<id>`), its metrics' TargetGroup dimension. */
  readonly targetGroupFullName: string;
  /** Name of the version's Deployment, which Container Insights reports its pods under. */
  readonly deploymentName: string;
}

/** One model on the dashboard. */
export interface ServingDashboardModel {
  /** Model name, heading its section. */
  readonly name: string;
  /** Kubernetes namespace the model's pods run in. */
  readonly namespace: string;
  /** Whether the model's pods use GPUs, which adds a GPU graph per version. */
  readonly gpu: boolean;
  /** Target 95th percentile response time, in milliseconds, drawn on the latency graphs. */
  readonly p95Milliseconds: number;
  /** Target 99th percentile response time, in milliseconds, drawn on the latency graphs. */
  readonly p99Milliseconds: number;
  /** Every version of the model. */
  readonly versions: ServingDashboardVersion[];
}

/** Properties of a {@link ServingDashboard}. */
export interface ServingDashboardProps {
  /** Name of the dashboard: letters, digits, "-" and "_". */
  readonly dashboardName: string;
  /** Name of the EKS cluster, the ClusterName dimension of Container Insights metrics. */
  readonly clusterName: string;
  /** Full name of the load balancer (`app/<name>/<id>`), the LoadBalancer dimension of the target groups' metrics. */
  readonly loadBalancerFullName: string;
  /** The models, each a section of the dashboard. */
  readonly models: ServingDashboardModel[];
}

/**
 * What CloudWatch accepts in one dashboard, none adjustable: widgets, metrics per widget, and
 * metrics across all widgets, counting those only read by math expressions (CloudWatch User Guide,
 * "CloudWatch service quotas", Dashboards).
 */
export const DASHBOARD_LIMITS = { widgets: 500, metricsPerWidget: 500, metrics: 2500 } as const;

/** The load balancer metrics of a target group, read every minute. */
const PERIOD = Duration.minutes(1);

/** Grid units of a dashboard row. */
const ROW_WIDTH = 24;

/** Height of every graph, in grid units. */
const GRAPH_HEIGHT = 6;

/**
 * One CloudWatch dashboard for an environment's model serving: per model a heading, and per version
 * one row of graphs from its target group (requests per second and the 5XX share, p50/p95/p99
 * response time against the SLO targets, healthy targets) and from Container Insights (pods, CPU and
 * memory, and GPU for GPU models).
 *
 * Container Insights reports a Deployment's pods under `PodName` = the Deployment's name (the CloudWatch
 * agent strips the ReplicaSet and pod suffixes), so the graphs follow a version across rollouts. Pod
 * counts (`replicas_*`) and GPU metrics come from Container Insights with enhanced observability,
 * which the amazon-cloudwatch-observability add-on turns on.
 *
 * Synth fails when the dashboard would exceed {@link DASHBOARD_LIMITS}, which CloudFormation would
 * otherwise only report when it rejects the deployment.
 */
export class ServingDashboard extends Construct {
  /** The dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  private readonly widgets: cloudwatch.IWidget[] = [];

  constructor(scope: Construct, id: string, props: ServingDashboardProps) {
    super(scope, id);
    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
      // Each graph's period grows with the time range shown; the request rate divides by PERIOD() so it stays per second.
      periodOverride: cloudwatch.PeriodOverride.AUTO,
    });

    // Every name the body holds is a deploy-time value from another stack (Fn::GetStackOutput), taken
    // whole: CloudFormation resolves that function inside Fn::Join, which is how the body is written,
    // but not inside Fn::Sub or Fn::Split. The region is a literal, one fewer value per graph.
    const region = Stack.of(this).region;
    for (const model of props.models) {
      this.addRow(
        new cloudwatch.TextWidget({
          markdown: [
            `## ${model.name}`,
            `Namespace \`${model.namespace}\` · SLO p95 ≤ ${model.p95Milliseconds} ms, p99 ≤ ${model.p99Milliseconds} ms · ` +
              `versions ${model.versions.map((version) => version.name).join(', ')} (the first is the primary)`,
          ].join('\n\n'),
          width: ROW_WIDTH,
          height: 2,
        }),
      );
      for (const version of model.versions) {
        this.addRow(
          ...versionGraphs({ clusterName: props.clusterName, region, loadBalancer: props.loadBalancerFullName, targetGroup: version.targetGroupFullName }, model, version),
        );
      }
    }

    this.node.addValidation({ validate: () => this.limitsExceeded() });
  }

  private addRow(...widgets: cloudwatch.IWidget[]): void {
    this.widgets.push(...widgets);
    this.dashboard.addWidgets(...widgets);
  }

  /** What exceeds CloudWatch's dashboard limits, one line each. */
  private limitsExceeded(): string[] {
    const rendered = this.widgets.flatMap((widget) => widget.toJson() as { properties?: { title?: string; metrics?: unknown[] } }[]);
    const metricsOf = (widget: (typeof rendered)[number]) => widget.properties?.metrics?.length ?? 0;
    const total = rendered.reduce((sum, widget) => sum + metricsOf(widget), 0);
    const problems: string[] = [];
    if (rendered.length > DASHBOARD_LIMITS.widgets) {
      problems.push(`${rendered.length} widgets, more than the ${DASHBOARD_LIMITS.widgets} CloudWatch allows on one dashboard`);
    }
    if (total > DASHBOARD_LIMITS.metrics) {
      problems.push(`${total} metrics, more than the ${DASHBOARD_LIMITS.metrics} CloudWatch allows on one dashboard`);
    }
    for (const widget of rendered.filter((candidate) => metricsOf(candidate) > DASHBOARD_LIMITS.metricsPerWidget)) {
      problems.push(`${metricsOf(widget)} metrics in "${widget.properties?.title}", more than the ${DASHBOARD_LIMITS.metricsPerWidget} CloudWatch allows in one widget`);
    }
    return problems;
  }
}

/** Where a version's graphs read from. */
interface GraphSources {
  /** Name of the EKS cluster. */
  readonly clusterName: string;
  /** Region of the metrics. */
  readonly region: string;
  /** The load balancer's full name. */
  readonly loadBalancer: string;
  /** The version's target group's full name. */
  readonly targetGroup: string;
}

/** The row of graphs of one model version, sharing the row's width. */
function versionGraphs(sources: GraphSources, model: ServingDashboardModel, version: ServingDashboardVersion): cloudwatch.GraphWidget[] {
  const { clusterName } = sources;
  const title = `${model.name} ${version.name}`;
  // Built from the two names rather than the target group's own metrics, which derive the load
  // balancer from the listener's ARN: three more deploy-time values in every metric of the body.
  const alb = (metricName: string, statistic: string, label?: string) =>
    new cloudwatch.Metric({
      namespace: 'AWS/ApplicationELB',
      metricName,
      dimensionsMap: { LoadBalancer: sources.loadBalancer, TargetGroup: sources.targetGroup },
      statistic,
      period: PERIOD,
      label,
    });
  const requests = alb('RequestCount', cloudwatch.Stats.SUM);
  const pods = (metricName: string, label: string) =>
    new cloudwatch.Metric({
      namespace: 'ContainerInsights',
      metricName,
      dimensionsMap: { ClusterName: clusterName, Namespace: model.namespace, PodName: version.deploymentName },
      statistic: cloudwatch.Stats.AVERAGE,
      period: PERIOD,
      label,
    });
  const percentAxis: cloudwatch.YAxisProps = { min: 0, label: '%', showUnits: false };

  const graphs: Omit<cloudwatch.GraphWidgetProps, 'width' | 'height'>[] = [
    {
      title: `${title}: requests/s and 5XX answers`,
      left: [
        new cloudwatch.MathExpression({
          expression: 'requests / PERIOD(requests)',
          usingMetrics: { requests },
          period: PERIOD,
          label: 'requests/s',
        }),
      ],
      right: [
        new cloudwatch.MathExpression({
          expression: 'IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)',
          usingMetrics: { requests, errors: alb(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, cloudwatch.Stats.SUM) },
          period: PERIOD,
          label: '5XX (% of requests)',
        }),
      ],
      leftYAxis: { min: 0, label: 'requests/s', showUnits: false },
      rightYAxis: percentAxis,
    },
    {
      title: `${title}: response time`,
      // TargetResponseTime is in seconds, so the targets are drawn in seconds too.
      left: (['p50', 'p95', 'p99'] as const).map((statistic) => alb('TargetResponseTime', statistic, statistic)),
      leftAnnotations: [
        { value: model.p95Milliseconds / 1000, label: `p95 target ${model.p95Milliseconds} ms`, color: cloudwatch.Color.ORANGE },
        { value: model.p99Milliseconds / 1000, label: `p99 target ${model.p99Milliseconds} ms`, color: cloudwatch.Color.RED },
      ],
      leftYAxis: { min: 0, label: 'seconds', showUnits: false },
    },
    {
      title: `${title}: healthy targets and pods`,
      left: [
        alb('HealthyHostCount', cloudwatch.Stats.MINIMUM, 'healthy targets'),
        pods('replicas_ready', 'ready pods'),
        pods('replicas_desired', 'desired pods'),
      ],
      leftYAxis: { min: 0, showUnits: false },
    },
    {
      title: `${title}: CPU and memory (% of pod limit)`,
      left: [pods('pod_cpu_utilization_over_pod_limit', 'CPU'), pods('pod_memory_utilization_over_pod_limit', 'memory')],
      leftYAxis: percentAxis,
    },
  ];
  if (model.gpu) {
    graphs.push({
      title: `${title}: GPU (%)`,
      left: [pods('pod_gpu_utilization', 'GPU'), pods('pod_gpu_memory_utilization', 'GPU memory')],
      leftYAxis: percentAxis,
    });
  }

  // The row's width shared out, the first graphs taking what does not divide evenly.
  const width = Math.floor(ROW_WIDTH / graphs.length);
  const wider = ROW_WIDTH % graphs.length;
  return graphs.map((graph, index) => new cloudwatch.GraphWidget({ ...graph, region: sources.region, width: width + (index < wider ? 1 : 0), height: GRAPH_HEIGHT }));
}
