import { CfnElement, Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { modelAlarmNamePrefix, versionAlarmNames, versionAlarmPrefix } from '../../../lib/config/alarm-names';
import { ModelVersionAlarms, ModelVersionAlarmsProps } from '../../../lib/constructs/model-version-alarms';
import { testApp } from '../../helpers/app';
import { policyFindings } from '../../helpers/policy-findings';
import { targetGroupFixture } from '../../helpers/target-group-fixture';

const PREFIX = versionAlarmPrefix(modelAlarmNamePrefix({ namePrefix: 'mlops', name: 'prod' }, 'fraud-scorer'), 'v7');

interface AlarmProperties {
  AlarmName: string;
  Threshold: number;
  ComparisonOperator: string;
  TreatMissingData: string;
  EvaluationPeriods: number;
  DatapointsToAlarm: number;
  AlarmActions: unknown[];
  OKActions: unknown[];
  MetricName?: string;
  Namespace?: string;
  Statistic?: string;
  ExtendedStatistic?: string;
  Period?: number;
  Dimensions?: { Name: string; Value: unknown }[];
  EvaluateLowSampleCountPercentile?: string;
  Metrics?: { Id: string; Expression?: string; ReturnData?: boolean; MetricStat?: { Metric: { MetricName: string; Namespace: string }; Stat: string; Period: number } }[];
}

function versionAlarms(props: Partial<ModelVersionAlarmsProps> = {}) {
  const fixture = targetGroupFixture(testApp());
  const targetGroup = fixture.targetGroup('fraud-scorer-v7');
  const topic = new sns.Topic(fixture.serving, 'Topic');
  const construct = new ModelVersionAlarms(fixture.serving, 'Alarms', {
    targetGroup,
    loadBalancerFullName: fixture.loadBalancer.loadBalancerFullName,
    alarmNamePrefix: PREFIX,
    p95Milliseconds: 300,
    p99Milliseconds: 500,
    errorRatioPercent: 1,
    topic,
    ...props,
  });
  const template = Template.fromStack(fixture.serving);
  const alarms = Object.fromEntries(
    Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((resource) => {
      const properties = resource.Properties as AlarmProperties;
      return [properties.AlarmName.slice(PREFIX.length + 1), properties];
    }),
  );
  return {
    construct,
    alarms,
    topicId: fixture.serving.getLogicalId(topic.node.defaultChild as sns.CfnTopic),
    targetGroupId: fixture.serving.getLogicalId(targetGroup.node.defaultChild as CfnElement),
  };
}

describe('ModelVersionAlarms', () => {
  const { construct, alarms, topicId, targetGroupId } = versionAlarms();

  test('names its four alarms as lib/config/alarm-names.ts does, the names the rollout script looks up', () => {
    expect(Object.keys(alarms).map((kind) => `${PREFIX}-${kind}`).sort()).toEqual(Object.values(versionAlarmNames(modelAlarmNamePrefix({ namePrefix: 'mlops', name: 'prod' }, 'fraud-scorer'), 'v7')).sort());
    expect(construct.alarms.map((alarm) => alarm.node.id)).toEqual(['P95Latency', 'P99Latency', 'ErrorRatio', 'NoHealthyTargets']);
  });

  test('gives the latency thresholds in seconds, the unit of TargetResponseTime', () => {
    expect(alarms['p95-latency']).toMatchObject({ MetricName: 'TargetResponseTime', Threshold: 0.3, ComparisonOperator: 'GreaterThanThreshold' });
    expect(alarms['p99-latency']).toMatchObject({ MetricName: 'TargetResponseTime', Threshold: 0.5, ComparisonOperator: 'GreaterThanThreshold' });
  });

  test('reads p95 and p99 as extended statistics over one minute', () => {
    for (const kind of ['p95', 'p99']) {
      const alarm = alarms[`${kind}-latency`];
      expect({ ExtendedStatistic: alarm.ExtendedStatistic, Statistic: alarm.Statistic, Period: alarm.Period }).toEqual({ ExtendedStatistic: kind, Statistic: undefined, Period: 60 });
    }
  });

  test('evaluates percentiles even on few requests, so a canary with little traffic is still watched', () => {
    expect([alarms['p95-latency'].EvaluateLowSampleCountPercentile, alarms['p99-latency'].EvaluateLowSampleCountPercentile]).toEqual(['evaluate', 'evaluate']);
  });

  test('reads the target group metrics of the version, with its target group and load balancer as dimensions', () => {
    for (const alarm of [alarms['p95-latency'], alarms['p99-latency'], alarms['no-healthy-targets']]) {
      expect(alarm.Namespace).toBe('AWS/ApplicationELB');
      expect(alarm.Dimensions?.map((dimension) => dimension.Name).sort()).toEqual(['LoadBalancer', 'TargetGroup']);
      expect(alarm.Dimensions?.find((dimension) => dimension.Name === 'TargetGroup')?.Value).toEqual({ 'Fn::GetAtt': [targetGroupId, 'TargetGroupFullName'] });
      // The load balancer's own full name from the ingress stack, not one cut out of its listener's ARN
      // (an Fn::Split of an Fn::GetStackOutput, which CloudFormation does not accept everywhere).
      const loadBalancer = JSON.stringify(alarm.Dimensions?.find((dimension) => dimension.Name === 'LoadBalancer')?.Value);
      expect(loadBalancer).toContain('"StackName":"Ingress"');
      expect(loadBalancer).not.toContain('Fn::Split');
    }
  });

  test('computes the error ratio as the percentage of requests answered 5XX by the pods, 0 in a minute without requests', () => {
    const metrics = alarms['error-ratio'].Metrics ?? [];
    const expression = metrics.find((metric) => metric.Expression !== undefined);
    expect(expression?.Expression).toBe('IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)');
    expect(expression?.ReturnData ?? true).toBe(true);
    const read = Object.fromEntries(metrics.filter((metric) => metric.MetricStat).map((metric) => [metric.Id, { ...metric.MetricStat?.Metric, Stat: metric.MetricStat?.Stat, Period: metric.MetricStat?.Period, ReturnData: metric.ReturnData }]));
    expect(read).toMatchObject({
      requests: { Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCount', Stat: 'Sum', Period: 60, ReturnData: false },
      errors: { Namespace: 'AWS/ApplicationELB', MetricName: 'HTTPCode_Target_5XX_Count', Stat: 'Sum', Period: 60, ReturnData: false },
    });
    expect(alarms['error-ratio']).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' });
  });

  test('fires on no healthy target when the minimum HealthyHostCount of a minute is below 1', () => {
    expect(alarms['no-healthy-targets']).toMatchObject({ MetricName: 'HealthyHostCount', Statistic: 'Minimum', Threshold: 1, ComparisonOperator: 'LessThanThreshold' });
  });

  test('treats missing latency and 5XX data as no traffic, and missing HealthyHostCount as no target', () => {
    expect(Object.fromEntries(Object.entries(alarms).map(([kind, alarm]) => [kind, alarm.TreatMissingData]))).toEqual({
      'p95-latency': 'notBreaching',
      'p99-latency': 'notBreaching',
      'error-ratio': 'notBreaching',
      'no-healthy-targets': 'breaching',
    });
  });

  test('fires when 3 of the last 5 one-minute data points breach, by default', () => {
    for (const alarm of Object.values(alarms)) {
      expect({ EvaluationPeriods: alarm.EvaluationPeriods, DatapointsToAlarm: alarm.DatapointsToAlarm }).toEqual({ EvaluationPeriods: 5, DatapointsToAlarm: 3 });
    }
  });

  test('takes other evaluation settings', () => {
    const { alarms: quick } = versionAlarms({ period: Duration.minutes(5), evaluationPeriods: 2, datapointsToAlarm: 2 });
    expect(quick['p95-latency']).toMatchObject({ Period: 300, EvaluationPeriods: 2, DatapointsToAlarm: 2 });
    expect(quick['error-ratio'].Metrics?.find((metric) => metric.Id === 'requests')?.MetricStat?.Period).toBe(300);
  });

  test('notifies the topic when an alarm fires and when it clears', () => {
    for (const alarm of Object.values(alarms)) {
      expect({ AlarmActions: alarm.AlarmActions, OKActions: alarm.OKActions }).toEqual({ AlarmActions: [{ Ref: topicId }], OKActions: [{ Ref: topicId }] });
    }
  });

  test('passes cdk-nag and the Control Tower rules with no acknowledgment', () => {
    const findings = policyFindings((app) => {
      const fixture = targetGroupFixture(app);
      new ModelVersionAlarms(fixture.serving, 'Alarms', {
        targetGroup: fixture.targetGroup('fraud-scorer-v7'),
        loadBalancerFullName: fixture.loadBalancer.loadBalancerFullName,
        alarmNamePrefix: PREFIX,
        p95Milliseconds: 300,
        p99Milliseconds: 500,
        errorRatioPercent: 1,
        topic: sns.Topic.fromTopicArn(fixture.serving, 'Topic', 'arn:aws:sns:eu-west-1:123456789012:alarms'),
      });
      return 'Serving/Alarms';
    });
    expect(findings).toEqual([]);
  });
});
