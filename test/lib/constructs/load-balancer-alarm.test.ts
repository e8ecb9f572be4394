import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { LoadBalancerAlarm } from '../../../lib/constructs/load-balancer-alarm';
import { testApp } from '../../helpers/app';
import { targetGroupFixture } from '../../helpers/target-group-fixture';

/** The alarm of a fixture load balancer, as its template has it. */
function alarm(errorRatioPercent?: number) {
  const app = testApp();
  const { ingress, loadBalancer } = targetGroupFixture(app);
  const topic = new sns.Topic(ingress, 'Topic');
  new LoadBalancerAlarm(ingress, 'Errors', { loadBalancer, alarmName: 'mlops-prod-load-balancer-5xx', topic, errorRatioPercent });
  const [properties] = Object.values(Template.fromStack(ingress).findResources('AWS::CloudWatch::Alarm')).map((resource) => resource.Properties);
  return properties;
}

describe('LoadBalancerAlarm', () => {
  const properties = alarm();

  test("fires on the load balancer's own 5XX answers as a share of its requests, 3 of 5 minutes, quiet minutes not breaching", () => {
    const metrics = properties.Metrics as { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Namespace: string }; Stat: string } }[];
    expect(metrics.find((metric) => metric.Expression)?.Expression).toBe('IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)');
    expect(Object.fromEntries(metrics.filter((metric) => metric.MetricStat).map((metric) => [metric.Id, metric.MetricStat?.Metric.MetricName]))).toEqual({
      requests: 'RequestCount',
      errors: 'HTTPCode_ELB_5XX_Count',
    });
    expect(properties).toMatchObject({
      AlarmName: 'mlops-prod-load-balancer-5xx',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
      TreatMissingData: 'notBreaching',
    });
  });

  test('notifies the topic when it fires and when it clears', () => {
    expect(properties.AlarmActions).toHaveLength(1);
    expect(properties.OKActions).toEqual(properties.AlarmActions);
  });

  test('takes the allowed share from its props', () => {
    expect(alarm(5).Threshold).toBe(5);
  });
});
