import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** Properties of a {@link ScheduledJobAlarm}. */
export interface ScheduledJobAlarmProps {
  /** Name of the alarm, e.g. `mlops-prod-fraud-scorer-batch`. */
  readonly alarmName: string;
  /** Description of the alarm: what failed and where the runbook is. */
  readonly alarmDescription: string;
  /** CloudWatch namespace of the job's success metric. */
  readonly metricNamespace: string;
  /** Metric each complete run publishes once, with value 1. */
  readonly metricName: string;
  /** Dimensions of the job's success metric, e.g. the environment and the model. */
  readonly dimensions: Record<string, string>;
  /** Hours without a complete run after which the alarm fires (at most 168). */
  readonly windowHours: number;
  /** Topic the alarm and its recovery notify. */
  readonly topic: sns.ITopic;
}

/**
 * Fires when a scheduled job has published no success metric for `windowHours`. Every hour without
 * a complete run breaches; the alarm fires when the whole window has, so a failed run, a missed one
 * and one still stuck all end in the same alarm. It is in ALARM from its creation until the first
 * run completes.
 */
export class ScheduledJobAlarm extends cloudwatch.Alarm {
  constructor(scope: Construct, id: string, props: ScheduledJobAlarmProps) {
    super(scope, id, {
      alarmName: props.alarmName,
      alarmDescription: props.alarmDescription,
      metric: new cloudwatch.Metric({
        namespace: props.metricNamespace,
        metricName: props.metricName,
        dimensionsMap: props.dimensions,
        statistic: cloudwatch.Stats.SUM,
        period: Duration.hours(1),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      evaluationPeriods: props.windowHours,
      datapointsToAlarm: props.windowHours,
    });
    const action = new actions.SnsAction(props.topic);
    this.addAlarmAction(action);
    this.addOkAction(action);
  }
}
