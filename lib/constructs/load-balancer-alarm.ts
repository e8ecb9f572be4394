import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** Properties of a {@link LoadBalancerAlarm}. */
export interface LoadBalancerAlarmProps {
  /** The shared load balancer. */
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** Name of the alarm. */
  readonly alarmName: string;
  /** Topic that alarm and OK notifications go to. */
  readonly topic: sns.ITopic;
  /** Share of all requests, in percent, the load balancer may answer with a 5XX of its own. @default 1 */
  readonly errorRatioPercent?: number;
}

/**
 * An alarm on the 5XX answers the load balancer gives itself: 502 when a target resets or answers
 * garbage, 503 when a target group has no target (a version at weight above 0 without pods),
 * 504 when a target times out. The versions' own alarms count only answers from their pods
 * (HTTPCode_Target_5XX_Count), so these would go unseen. Fires when 3 of 5 minutes breach, as
 * the versions' alarms do.
 */
export class LoadBalancerAlarm extends Construct {
  /** The alarm. */
  public readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: LoadBalancerAlarmProps) {
    super(scope, id);
    const period = Duration.minutes(1);
    const ratio = new cloudwatch.MathExpression({
      // No request, no ratio: a quiet minute is not an outage.
      expression: 'IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)',
      usingMetrics: {
        requests: props.loadBalancer.metrics.requestCount({ period }),
        errors: props.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period }),
      },
      period,
      label: 'load balancer 5XX (% of requests)',
    });
    this.alarm = ratio.createAlarm(this, 'Resource', {
      alarmName: props.alarmName,
      alarmDescription: 'The load balancer answered more than the allowed share of requests with a 5XX of its own (502, 503, 504): see docs/runbooks/latency-alert.md',
      threshold: props.errorRatioPercent ?? 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarm.addAlarmAction(new actions.SnsAction(props.topic));
    this.alarm.addOkAction(new actions.SnsAction(props.topic));
  }
}
