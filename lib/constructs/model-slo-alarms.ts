import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { modelSloAlarmName, versionAlarmPrefix } from '../config/alarm-names';
import { ModelVersionAlarms } from './model-version-alarms';

/** One version of a model, as its alarms see it. */
export interface ModelSloVersion {
  /** Version name, part of its alarm names. */
  readonly name: string;
  /** Target group of the version. */
  readonly targetGroup: elbv2.ApplicationTargetGroup;
}

/** Properties of a {@link ModelSloAlarms}. */
export interface ModelSloAlarmsProps {
  /** Model name, shown in the composite alarm's description. */
  readonly model: string;
  /** Every version of the model. */
  readonly versions: ModelSloVersion[];
  /** Full name of the load balancer forwarding to the versions (`app/<name>/<id>`). */
  readonly loadBalancerFullName: string;
  /** 95th percentile response time every version must stay at or under, in milliseconds. */
  readonly p95Milliseconds: number;
  /** 99th percentile response time every version must stay at or under, in milliseconds. */
  readonly p99Milliseconds: number;
  /** Share of requests, in percent, that may end in a 5XX answer from a version's pods. */
  readonly errorRatioPercent: number;
  /** Topic that alarm and OK notifications go to. */
  readonly topic: sns.ITopic;
  /** Start of the model's alarm names, `<namePrefix>-<environment>-<model>` (lib/config/alarm-names.ts). */
  readonly alarmNamePrefix: string;
}

/**
 * The SLO alarms of one model: a {@link ModelVersionAlarms} per version, and one composite alarm
 * that is in ALARM while any of them is, so the model's health is one state to watch, page on or
 * gate a rollout on.
 */
export class ModelSloAlarms extends Construct {
  /** Each version's alarms, by version name. */
  public readonly versions: Record<string, ModelVersionAlarms>;
  /** In ALARM while any version alarm is. */
  public readonly composite: cloudwatch.CompositeAlarm;

  constructor(scope: Construct, id: string, props: ModelSloAlarmsProps) {
    super(scope, id);
    this.versions = Object.fromEntries(
      props.versions.map((version) => [
        version.name,
        new ModelVersionAlarms(this, `Version-${version.name}`, {
          targetGroup: version.targetGroup,
          loadBalancerFullName: props.loadBalancerFullName,
          alarmNamePrefix: versionAlarmPrefix(props.alarmNamePrefix, version.name),
          p95Milliseconds: props.p95Milliseconds,
          p99Milliseconds: props.p99Milliseconds,
          errorRatioPercent: props.errorRatioPercent,
          topic: props.topic,
        }),
      ]),
    );

    const versionAlarms = Object.values(this.versions).flatMap((version) => version.alarms);
    this.composite = new cloudwatch.CompositeAlarm(this, 'Composite', {
      compositeAlarmName: modelSloAlarmName(props.alarmNamePrefix),
      alarmDescription: `Model ${props.model}: a version breaches its SLO (${props.versions.map((version) => version.name).join(', ')}).`,
      alarmRule: cloudwatch.AlarmRule.anyOf(...versionAlarms.map((alarm) => cloudwatch.AlarmRule.fromAlarm(alarm, cloudwatch.AlarmState.ALARM))),
    });
    const action = new actions.SnsAction(props.topic);
    this.composite.addAlarmAction(action);
    this.composite.addOkAction(action);
  }
}
