import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { VersionAlarmKind, versionAlarmName } from '../config/alarm-names';

/** Properties of a {@link ModelVersionAlarms}. */
export interface ModelVersionAlarmsProps {
  /** Target group of the version. */
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** Full name of the load balancer forwarding to it (`app/<name>/<id>`), the metrics' LoadBalancer dimension. */
  readonly loadBalancerFullName: string;
  /** Start of the alarm names, `<namePrefix>-<environment>-<model>-<version>` (lib/config/alarm-names.ts). */
  readonly alarmNamePrefix: string;
  /** 95th percentile response time the version must stay at or under, in milliseconds. */
  readonly p95Milliseconds: number;
  /** 99th percentile response time the version must stay at or under, in milliseconds. */
  readonly p99Milliseconds: number;
  /** Share of requests, in percent, that may end in a 5XX answer from the version's pods. */
  readonly errorRatioPercent: number;
  /** Topic that alarm and OK notifications go to. */
  readonly topic: sns.ITopic;
  /** Length of one evaluated data point. @default Duration.minutes(1) */
  readonly period?: Duration;
  /** Data points an alarm looks at. @default 5 */
  readonly evaluationPeriods?: number;
  /** Data points among those that must breach for the alarm to fire. @default 3 */
  readonly datapointsToAlarm?: number;
}

/**
 * The SLO alarms of one model version, on its target group's load balancer metrics: p95 and p99
 * response time, the share of 5XX answers from its pods, and having no healthy target. Each
 * notifies the topic when it fires and when it clears.
 *
 * By default an alarm fires when 3 of the last 5 one-minute data points breach. The load balancer
 * publishes these metrics every minute, so a breach is reported within 3 to 5 minutes, soon enough
 * to stop a canary before its next weight step, while one slow or failing minute (a cold start, a
 * burst of bad input) does not page anyone. M of N also keeps the error ratio, which fills missing
 * error counts with 0, from sticking in one state when the latest minute arrives late (CloudWatch
 * metric math FILL).
 */
export class ModelVersionAlarms extends Construct {
  /** Every alarm of the version, in the order of VERSION_ALARM_KINDS. */
  public readonly alarms: cloudwatch.Alarm[];
  /** 95th percentile of TargetResponseTime above its target. */
  public readonly p95Latency: cloudwatch.Alarm;
  /** 99th percentile of TargetResponseTime above its target. */
  public readonly p99Latency: cloudwatch.Alarm;
  /** Target 5XX answers as a percentage of requests above the allowed ratio. */
  public readonly errorRatio: cloudwatch.Alarm;
  /** No healthy target in the version's target group. */
  public readonly noHealthyTargets: cloudwatch.Alarm;

  private readonly props: ModelVersionAlarmsProps;

  constructor(scope: Construct, id: string, props: ModelVersionAlarmsProps) {
    super(scope, id);
    this.props = props;
    const period = props.period ?? Duration.minutes(1);
    // Named from the load balancer's own full name, not the target group's metrics, which cut it out
    // of the listener's ARN: across stacks that is an Fn::Split of an Fn::GetStackOutput, which
    // CloudFormation does not accept in every region.
    const metric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApplicationELB',
        metricName,
        dimensionsMap: { LoadBalancer: props.loadBalancerFullName, TargetGroup: props.targetGroup.targetGroupFullName },
        statistic,
        period,
      });

    // TargetResponseTime is in seconds. The load balancer publishes it only for minutes with
    // requests, so a missing point means no traffic, which meets the target. A canary takes a small
    // share of traffic, often fewer requests than CloudWatch calls significant for a percentile
    // (200 a period for p95, 1000 for p99); ignoring those periods would leave it unwatched.
    this.p95Latency = this.alarm('P95Latency', 'p95-latency', {
      metric: metric('TargetResponseTime', 'p95'),
      threshold: props.p95Milliseconds / 1000,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      evaluateLowSampleCountPercentile: 'evaluate',
      description: `p95 response time above ${props.p95Milliseconds} ms`,
    });
    this.p99Latency = this.alarm('P99Latency', 'p99-latency', {
      metric: metric('TargetResponseTime', 'p99'),
      threshold: props.p99Milliseconds / 1000,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      evaluateLowSampleCountPercentile: 'evaluate',
      description: `p99 response time above ${props.p99Milliseconds} ms`,
    });

    // HTTPCode_Target_5XX_Count is published only when non-zero, hence FILL; a minute without
    // requests is 0 % rather than a division by zero (which metric math drops). A missing point
    // (no RequestCount at all) is no traffic, so not breaching either.
    this.errorRatio = this.alarm('ErrorRatio', 'error-ratio', {
      metric: new cloudwatch.MathExpression({
        expression: 'IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)',
        usingMetrics: {
          requests: metric('RequestCount', cloudwatch.Stats.SUM),
          errors: metric(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, cloudwatch.Stats.SUM),
        },
        period,
        label: '5XX answers from the pods (% of requests)',
      }),
      threshold: props.errorRatioPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      description: `more than ${props.errorRatioPercent} % of requests answered 5XX by the pods`,
    });

    // The load balancer stops publishing HealthyHostCount when the target group has no registered
    // target at all (every pod gone), so a missing point is the worst case and breaches. Minimum
    // catches a minute in which the count touched 0.
    this.noHealthyTargets = this.alarm('NoHealthyTargets', 'no-healthy-targets', {
      metric: metric('HealthyHostCount', cloudwatch.Stats.MINIMUM),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      description: 'no healthy target: its share of requests fails or goes to failing pods',
    });

    this.alarms = [this.p95Latency, this.p99Latency, this.errorRatio, this.noHealthyTargets];
  }

  private alarm(
    id: string,
    kind: VersionAlarmKind,
    options: {
      metric: cloudwatch.IMetric;
      threshold: number;
      comparisonOperator: cloudwatch.ComparisonOperator;
      treatMissingData: cloudwatch.TreatMissingData;
      evaluateLowSampleCountPercentile?: string;
      description: string;
    },
  ): cloudwatch.Alarm {
    const evaluationPeriods = this.props.evaluationPeriods ?? 5;
    const datapointsToAlarm = this.props.datapointsToAlarm ?? 3;
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: versionAlarmName(this.props.alarmNamePrefix, kind),
      alarmDescription: `${this.props.alarmNamePrefix}: ${options.description} in ${datapointsToAlarm} of ${evaluationPeriods} periods.`,
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: options.comparisonOperator,
      treatMissingData: options.treatMissingData,
      evaluationPeriods,
      datapointsToAlarm,
      evaluateLowSampleCountPercentile: options.evaluateLowSampleCountPercentile,
    });
    const action = new actions.SnsAction(this.props.topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    return alarm;
  }
}
