import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { addPolicyPacks } from '../../../lib/compliance';
import { ModelRouting, ModelRoutingProps } from '../../../lib/constructs/model-routing';
import { cdkJsonContext, testApp } from '../../helpers/app';
import { scratchFolder } from '../../helpers/scratch';

const ENV = { account: '123456789012', region: 'eu-west-1' };
const HOSTNAME = 'fraud-scorer.models.example.internal';
const PRIORITY = 2570;

/** A value another stack of the app publishes, as cdk.json's cross-stack references read it. */
function fromIngressStack(output: string) {
  return { 'Fn::GetStackOutput': Match.objectLike({ StackName: 'Ingress', OutputName: Match.stringLikeRegexp(output) }) };
}

/** The load balancer and its listener, in a stack of their own as in the platform. */
function ingressStack(app: App) {
  const stack = new Stack(app, 'Ingress', { env: ENV });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    natGateways: 0,
    subnetConfiguration: [{ name: 'Private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
  const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'LoadBalancer', { vpc, internetFacing: false });
  const listener = loadBalancer.addListener('Http', {
    protocol: elbv2.ApplicationProtocol.HTTP,
    port: 80,
    defaultAction: elbv2.ListenerAction.fixedResponse(404),
  });
  return { vpc, listener };
}

/** A model's routing in another stack than the listener's, with two versions split 90/10 unless `props` says otherwise. */
function routing(props: Partial<ModelRoutingProps> = {}, app: App = testApp()) {
  const { vpc, listener } = ingressStack(app);
  const stack = new Stack(app, 'Serving', { env: ENV });
  const construct = new ModelRouting(stack, 'Routing', {
    listener,
    vpc,
    clusterName: 'dev-mlops',
    hostname: HOSTNAME,
    priority: PRIORITY,
    versions: [
      { name: 'v7', weight: 90 },
      { name: 'v8', weight: 10 },
    ],
    port: 8080,
    healthCheckPath: '/ping',
    ...props,
  });
  return { app, stack, routing: construct, template: () => Template.fromStack(stack) };
}

/** A checker's findings in the validation report of a synth. */
interface PluginReport {
  pluginName: string;
  violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
}

/** A rule's priority as the template gives it. */
function priorityOf(rule: elbv2.ApplicationListenerRule): number {
  return Stack.of(rule).resolve((rule.node.defaultChild as elbv2.CfnListenerRule).priority);
}

/** The logical ID of a target group's CloudFormation resource. */
function logicalId(targetGroup: elbv2.ApplicationTargetGroup, stack: Stack): string {
  return stack.getLogicalId(targetGroup.node.defaultChild as elbv2.CfnTargetGroup);
}

describe('ModelRouting', () => {
  test('creates one IP target group per version, over HTTP to the pods’ port, in the VPC', () => {
    const { template, routing: construct } = routing();
    expect(Object.keys(construct.targetGroups)).toEqual(['v7', 'v8']);
    template().resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 2);
    template().allResourcesProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetType: 'ip',
      Protocol: 'HTTP',
      Port: 8080,
      VpcId: fromIngressStack('^PublishOutputRefVpc'),
    });
  });

  test('tags every target group with the cluster name, without which Auto Mode registers no pod', () => {
    routing().template().allResourcesProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Tags: Match.arrayWith([{ Key: 'eks:eks-cluster-name', Value: 'dev-mlops' }]),
    });
  });

  test('leaves the target group names to CloudFormation, which keeps them within 32 characters', () => {
    routing().template().allResourcesProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Name: Match.absent() });
  });

  test('checks health on the given path: 200 twice in 10 s to serve, 3 misses of 5 s to stop', () => {
    routing().template().allResourcesProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: '/ping',
      Matcher: { HttpCode: '200' },
      HealthCheckIntervalSeconds: 10,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 3,
    });
  });

  test('drains a leaving pod for its 30 s termination grace period, not ALB’s 300 s', () => {
    routing().template().allResourcesProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }]),
    });
  });

  test('forwards the host to every version with the weights given, 0 included, at the last priority of the block', () => {
    const versions = [
      { name: 'v7', weight: 100 },
      { name: 'v8', weight: 0 },
      { name: 'v9', weight: 5 },
    ];
    const { stack, template, routing: construct } = routing({ versions });
    template().hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: PRIORITY + 9,
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [HOSTNAME] } }],
      Actions: [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: versions.map(({ name, weight }) => ({
              TargetGroupArn: { Ref: logicalId(construct.targetGroups[name], stack) },
              Weight: weight,
            })),
          },
        },
      ],
    });
  });

  test('turns on target-group stickiness for the duration given', () => {
    routing({ stickiness: Duration.hours(1) }).template().hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Actions: [{ Type: 'forward', ForwardConfig: Match.objectLike({ TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 3600 } }) }],
    });
  });

  test('leaves stickiness out when none is given', () => {
    routing().template().hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Actions: [{ Type: 'forward', ForwardConfig: Match.objectLike({ TargetGroupStickinessConfig: Match.absent() }) }],
    });
  });

  test('sends a request whose version header names a version to that version alone, ahead of the weighted rule', () => {
    const { stack, template, routing: construct } = routing({ versionHeader: 'x-model-version' });
    expect(Object.keys(construct.versionRules).sort()).toEqual(['v7', 'v8']);
    template().resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 3);
    const priorities: number[] = [];
    for (const name of ['v7', 'v8']) {
      const rule = template().findResources('AWS::ElasticLoadBalancingV2::ListenerRule', {
        Properties: { Conditions: Match.arrayWith([Match.objectLike({ HttpHeaderConfig: { HttpHeaderName: 'x-model-version', Values: [name] } })]) },
      });
      const [properties] = Object.values(rule).map((resource) => resource.Properties);
      expect(properties.Conditions).toEqual([
        { Field: 'host-header', HostHeaderConfig: { Values: [HOSTNAME] } },
        { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'x-model-version', Values: [name] } },
      ]);
      expect(properties.Actions).toEqual([{ Type: 'forward', TargetGroupArn: { Ref: logicalId(construct.targetGroups[name], stack) } }]);
      priorities.push(properties.Priority);
    }
    for (const priority of priorities) {
      expect(priority).toBeGreaterThanOrEqual(PRIORITY);
      expect(priority).toBeLessThanOrEqual(PRIORITY + 4);
    }
    expect(new Set(priorities).size).toBe(2);
  });

  test('keeps each header rule’s priority when the versions are reordered', () => {
    const priorities = (versions: ModelRoutingProps['versions']) => {
      const { routing: construct } = routing({ versions, versionHeader: 'x-model-version' });
      return Object.fromEntries(Object.entries(construct.versionRules).map(([name, rule]) => [name, priorityOf(rule)]));
    };
    const v7 = { name: 'v7', weight: 50 };
    const v8 = { name: 'v8', weight: 50 };
    const v9 = { name: 'v9', weight: 0 };
    expect(priorities([v9, v8, v7])).toEqual(priorities([v7, v8, v9]));
  });

  test('ends a block that starts at 1, MLflow’s, at 9, before the first model block', () => {
    const { routing: construct } = routing({ priority: 1, versionHeader: 'x-model-version' });
    expect(priorityOf(construct.weightedRule)).toBe(9);
    for (const rule of Object.values(construct.versionRules)) {
      expect(priorityOf(rule)).toBeGreaterThanOrEqual(1);
      expect(priorityOf(rule)).toBeLessThanOrEqual(5);
    }
  });

  test('adds no header rule without a version header', () => {
    const { template, routing: construct } = routing();
    expect(construct.versionRules).toEqual({});
    template().resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 1);
  });

  const version = (name: string, weight = 20) => ({ name, weight });
  test.each([
    ['more than 5 versions', { versions: ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => version(name)) }, '6 versions; a model has 1 to 5, as ALB'],
    ['no version', { versions: [] }, '0 versions'],
    ['a weight above 999', { versions: [version('v7', 1000)] }, 'version "v7" has weight 1000; ALB takes whole numbers 0 to 999'],
    ['a fractional weight', { versions: [version('v7', 0.5)] }, 'version "v7" has weight 0.5'],
    ['every weight 0', { versions: [version('v7', 0), version('v8', 0)] }, 'every version has weight 0'],
    ['a version listed twice', { versions: [version('v7'), version('v7')] }, 'version "v7" is listed twice'],
    ['a version name that is no DNS label', { versions: [version('v*')] }, 'version name "v*" is not a DNS label'],
    ['priority 0', { priority: 0 }, 'priority 0'],
    ['a block past priority 50000', { priority: 50_000 }, "priority 50000; ALB's rule priorities run from 1 to 50000"],
    ['a priority ending in 5 to 9', { priority: 2575 }, 'priority 2575 leaves too little of its block for 5 header rules'],
    ['stickiness over 7 days', { stickiness: Duration.days(8) }, 'stickiness of 691200 s'],
    ['stickiness of 0 s', { stickiness: Duration.seconds(0) }, 'stickiness of 0 s'],
    ['a version header ALB cannot match', { versionHeader: 'x model version' }, 'version header "x model version"'],
    ['Host as the version header', { versionHeader: 'Host' }, 'version header "Host"'],
  ])('refuses %s with a one-line error', (_case, props, message) => {
    expect(() => routing(props)).toThrow(`ModelRouting for ${HOSTNAME}: ${message}`);
  });

  describe('with the listener in another stack of the app', () => {
    const { app, stack, routing: construct } = routing();
    construct.targetGroups.v7.metrics
      .targetResponseTime({ statistic: cloudwatch.Stats.p(99), period: Duration.minutes(1) })
      .createAlarm(stack, 'P99', { threshold: 0.5, evaluationPeriods: 3 });
    const serving = Template.fromStack(stack);

    test('attaches its rules to the listener by the ARN the listener’s stack publishes', () => {
      serving.allResourcesProperties('AWS::ElasticLoadBalancingV2::ListenerRule', { ListenerArn: fromIngressStack('^PublishOutputRefLoadBalancerHttp') });
    });

    test('synthesizes, the rules and alarms in one stack and the listener in the other', () => {
      expect(() => app.synth()).not.toThrow();
    });

    test('gives its target groups metrics with TargetGroup and LoadBalancer dimensions, percentiles as extended statistics', () => {
      const listenerArn = fromIngressStack('^PublishOutputRefLoadBalancerHttp');
      serving.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/ApplicationELB',
        MetricName: 'TargetResponseTime',
        ExtendedStatistic: 'p99',
        Dimensions: [
          // app/<name>/<id>, cut from the listener's ARN: arn:…:listener/app/<name>/<id>/<listener id>.
          {
            Name: 'LoadBalancer',
            Value: {
              'Fn::Join': [
                '',
                [
                  { 'Fn::Select': [1, { 'Fn::Split': ['/', listenerArn] }] },
                  '/',
                  { 'Fn::Select': [2, { 'Fn::Split': ['/', listenerArn] }] },
                  '/',
                  { 'Fn::Select': [3, { 'Fn::Split': ['/', listenerArn] }] },
                ],
              ],
            },
          },
          { Name: 'TargetGroup', Value: { 'Fn::GetAtt': [logicalId(construct.targetGroups.v7, stack), 'TargetGroupFullName'] } },
        ],
      });
    });

    test('gives every metric of its target groups both dimensions', () => {
      const metrics = construct.targetGroups.v8.metrics;
      const all = [
        metrics.requestCount(),
        metrics.requestCountPerTarget(),
        metrics.healthyHostCount(),
        metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT),
      ];
      for (const metric of all) {
        expect(Object.keys(metric.dimensions ?? {}).sort()).toEqual(['LoadBalancer', 'TargetGroup']);
      }
    });
  });

  test('passes cdk-nag and the Control Tower rules with no acknowledgment', () => {
    const outdir = fs.mkdtempSync(path.join(scratchFolder(), 'cdk-out-'));
    const app = new App({ context: cdkJsonContext(), outdir });
    addPolicyPacks(app);
    routing({ versionHeader: 'x-model-version', stickiness: Duration.hours(1) }, app);
    try {
      app.synth();
    } catch {
      // The test load balancer of the Ingress stack has findings of its own (access logs…); only the Serving stack's count here.
    }
    const report: PluginReport[] = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')).pluginReports;
    const inServing = report.flatMap((plugin) =>
      plugin.violations.flatMap((violation) =>
        violation.violatingConstructs
          .filter(({ constructPath }) => constructPath.startsWith('Serving/'))
          .map(({ constructPath }) => `${plugin.pluginName} ${violation.ruleName} ${constructPath}`),
      ),
    );
    // The checkers ran: they report the test load balancer's missing access logs.
    const rules = report.flatMap((plugin) => plugin.violations.map((violation) => violation.ruleName));
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-ELB2']));
    expect(inServing).toEqual([]);
  });
});
