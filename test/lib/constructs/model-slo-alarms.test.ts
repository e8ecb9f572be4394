import { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { modelAlarmNamePrefix, modelSloAlarmName, VERSION_ALARM_KINDS, versionAlarmNames } from '../../../lib/config/alarm-names';
import { ModelSloAlarms } from '../../../lib/constructs/model-slo-alarms';
import { testApp } from '../../helpers/app';
import { policyFindings } from '../../helpers/policy-findings';
import { targetGroupFixture } from '../../helpers/target-group-fixture';

const MODEL_PREFIX = modelAlarmNamePrefix({ namePrefix: 'mlops', name: 'prod' }, 'fraud-scorer');
const VERSIONS = ['v7', 'v8', 'v9'];

function sloAlarms() {
  const fixture = targetGroupFixture(testApp());
  const topic = new sns.Topic(fixture.serving, 'Topic');
  const construct = new ModelSloAlarms(fixture.serving, 'Alarms', {
    model: 'fraud-scorer',
    versions: VERSIONS.map((name) => ({ name, targetGroup: fixture.targetGroup(`fraud-scorer-${name}`) })),
    loadBalancerFullName: fixture.loadBalancer.loadBalancerFullName,
    p95Milliseconds: 250,
    p99Milliseconds: 400,
    errorRatioPercent: 0.5,
    topic,
    alarmNamePrefix: MODEL_PREFIX,
  });
  const template = Template.fromStack(fixture.serving);
  return { fixture, construct, template, topicId: fixture.serving.getLogicalId(topic.node.defaultChild as sns.CfnTopic) };
}

describe('ModelSloAlarms', () => {
  const { fixture, construct, template, topicId } = sloAlarms();
  const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).map(([logicalId, resource]) => ({
    logicalId,
    ...(resource.Properties as { AlarmName: string; Threshold: number }),
  }));
  const composite = Object.values(template.findResources('AWS::CloudWatch::CompositeAlarm')).map((resource) => resource.Properties);

  test('creates every alarm kind for every version, under the names of lib/config/alarm-names.ts', () => {
    expect(alarms.map((alarm) => alarm.AlarmName).sort()).toEqual(VERSIONS.flatMap((version) => Object.values(versionAlarmNames(MODEL_PREFIX, version))).sort());
    expect(Object.keys(construct.versions)).toEqual(VERSIONS);
    expect(alarms).toHaveLength(VERSIONS.length * VERSION_ALARM_KINDS.length);
  });

  test('holds every version to the model thresholds', () => {
    const thresholds = (kind: string) => [...new Set(alarms.filter((alarm) => alarm.AlarmName.endsWith(kind)).map((alarm) => alarm.Threshold))];
    expect([thresholds('p95-latency'), thresholds('p99-latency'), thresholds('error-ratio')]).toEqual([[0.25], [0.4], [0.5]]);
  });

  test('reads each version alarm from the target group of that version', () => {
    const groupOf = (name: string) => JSON.stringify(Template.fromStack(fixture.serving).findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: name } }));
    for (const version of VERSIONS) {
      const targetGroupId = fixture.serving.getLogicalId(fixture.serving.node.findChild(`TargetGroup-fraud-scorer-${version}`).node.defaultChild as CfnElement);
      expect(groupOf(versionAlarmNames(MODEL_PREFIX, version)['p95-latency'])).toContain(`"${targetGroupId}","TargetGroupFullName"`);
    }
  });

  test('has one composite alarm, named for the model, in ALARM while any version alarm is', () => {
    expect(composite).toHaveLength(1);
    expect(composite[0].AlarmName).toBe(modelSloAlarmName(MODEL_PREFIX));
    const rule = JSON.stringify(composite[0].AlarmRule);
    const referenced = [...rule.matchAll(/ALARM\(\\"",\{"Fn::GetAtt":\["([A-Za-z0-9]+)","Arn"\]\}/g)].map((match) => match[1]);
    expect(referenced.sort()).toEqual(alarms.map((alarm) => alarm.logicalId).sort());
    expect(rule.match(/ OR /g)).toHaveLength(alarms.length - 1);
    expect(rule).not.toContain(' AND ');
  });

  test('notifies the topic when the composite alarm fires and when it clears', () => {
    expect({ AlarmActions: composite[0].AlarmActions, OKActions: composite[0].OKActions }).toEqual({ AlarmActions: [{ Ref: topicId }], OKActions: [{ Ref: topicId }] });
  });

  test('passes cdk-nag and the Control Tower rules with no acknowledgment', () => {
    const findings = policyFindings((app) => {
      const { serving, targetGroup, loadBalancer } = targetGroupFixture(app);
      new ModelSloAlarms(serving, 'Alarms', {
        model: 'fraud-scorer',
        versions: [{ name: 'v7', targetGroup: targetGroup('v7') }],
        loadBalancerFullName: loadBalancer.loadBalancerFullName,
        p95Milliseconds: 300,
        p99Milliseconds: 500,
        errorRatioPercent: 1,
        topic: sns.Topic.fromTopicArn(serving, 'Topic', 'arn:aws:sns:eu-west-1:123456789012:alarms'),
        alarmNamePrefix: MODEL_PREFIX,
      });
      return 'Serving/Alarms';
    });
    expect(findings).toEqual([]);
  });
});
