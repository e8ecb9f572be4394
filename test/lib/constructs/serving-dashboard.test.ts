import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DASHBOARD_LIMITS, ServingDashboard, ServingDashboardModel } from '../../../lib/constructs/serving-dashboard';
import { testApp } from '../../helpers/app';
import { policyFindings } from '../../helpers/policy-findings';
import { targetGroupFixture } from '../../helpers/target-group-fixture';

/** CloudFormation's limit on a template uploaded through S3, as the CDK CLI deploys it (test/lib/scale.test.ts). */
const TEMPLATE_LIMIT_BYTES = 1_000_000;

/** The share of its stack's template the dashboard may take; the rest leaves room for what else the stack may come to hold. */
const DASHBOARD_TEMPLATE_SHARE = 0.4;

/**
 * Stands in for each deploy-time name in the body (the load balancer's and the target groups' full
 * names); as long as the longest of them, so that the measured size is not below the deployed one.
 */
const DEPLOY_TIME_VALUE = 'targetgroup/k8s-a-very-long-target-group-name-xx/0123456789abcdef';


type MetricEntry = (string | Record<string, unknown>)[];
interface Widget {
  type: string;
  x: number;
  y: number;
  width: number;
  height: number;
  properties: {
    title?: string;
    markdown?: string;
    metrics?: MetricEntry[];
    annotations?: { horizontal?: { value: number; label: string }[] };
  };
}

/** `count` models of `versions` versions each, each version's target group full name from `targetGroup`; every other one on GPUs unless `gpu` says. */
function models(targetGroup: (name: string) => string, count: number, versions: number, gpu?: boolean): ServingDashboardModel[] {
  return Array.from({ length: count }, (_, index) => {
    const name = `model-${String(index).padStart(2, '0')}`;
    return {
      name,
      namespace: `team-${index % 4}`,
      gpu: gpu ?? index % 2 === 1,
      p95Milliseconds: 300,
      p99Milliseconds: 500,
      versions: Array.from({ length: versions }, (_unused, version) => ({
        name: `v${version + 1}`,
        targetGroupFullName: targetGroup(`${name}-v${version + 1}`),
        deploymentName: `${name}-v${version + 1}`,
      })),
    };
  });
}

/**
 * The dashboard's body, an Fn::Join of JSON text and deploy-time values, with each value written
 * out as `value` makes of it (its intrinsic function and its index among the body's values).
 */
function rendered(body: unknown, value: (intrinsic: unknown, index: number) => string): string {
  const [separator, parts] = (body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  const values = parts.filter((part) => typeof part !== 'string');
  return parts.map((part) => (typeof part === 'string' ? part : value(part, values.indexOf(part)))).join(separator);
}

/**
 * A dashboard of `count` models of `versions` versions, its target groups in one stack and its load
 * balancer in another, as the platform splits them: each full name a deploy-time value.
 */
function dashboard(count: number, versions: number, gpu?: boolean, app: App = testApp()) {
  const fixture = targetGroupFixture(app);
  const construct = new ServingDashboard(fixture.serving, 'Dashboard', {
    dashboardName: 'mlops-dev-serving',
    clusterName: 'mlops-dev',
    loadBalancerFullName: fixture.loadBalancer.loadBalancerFullName,
    models: models((name) => fixture.targetGroup(name).targetGroupFullName, count, versions, gpu),
  });
  const dashboards = Object.values(Template.fromStack(fixture.serving).findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  // As the template holds it: an Fn::Join of JSON text and deploy-time values.
  const body = dashboards[0].Properties.DashboardBody;
  const [, parts] = body['Fn::Join'] as [string, unknown[]];
  return {
    fixture,
    construct,
    body,
    values: parts.filter((part) => typeof part !== 'string'),
    // As CloudWatch receives it, each deploy-time value replaced by the longest deploy-time name.
    deployed: rendered(body, () => DEPLOY_TIME_VALUE),
    // Each value a marker naming its index, so a test can tell which value a metric reads.
    widgets: JSON.parse(rendered(body, (_, index) => `@value${index}@`)).widgets as Widget[],
  };
}

/** Metric entries that read a metric, not a math expression. */
const readMetrics = (widget: Widget) => (widget.properties.metrics ?? []).filter((entry) => typeof entry[0] === 'string');

describe('ServingDashboard', () => {
  const { widgets } = dashboard(2, 2);
  const graphsOf = (model: string, version: string) => widgets.filter((widget) => widget.properties.title?.startsWith(`${model} ${version}: `));

  test('heads each model with a text widget naming its namespace, SLO and versions', () => {
    const headings = widgets.filter((widget) => widget.type === 'text');
    expect(headings.map((widget) => widget.properties.markdown?.split('\n')[0])).toEqual(['## model-00', '## model-01']);
    expect(headings[0].properties.markdown).toContain('Namespace `team-0` · SLO p95 ≤ 300 ms, p99 ≤ 500 ms · versions v1, v2');
  });

  test('gives every version one full row of graphs', () => {
    for (const model of ['model-00', 'model-01']) {
      for (const version of ['v1', 'v2']) {
        const row = graphsOf(model, version);
        expect(row.length).toBeGreaterThanOrEqual(4);
        expect(new Set(row.map((widget) => widget.y)).size).toBe(1);
        expect(row.reduce((width, widget) => width + widget.width, 0)).toBe(24);
      }
    }
  });

  test('graphs GPU utilisation only for GPU models', () => {
    const gpuGraphs = widgets.filter((widget) => JSON.stringify(widget.properties.metrics ?? []).includes('pod_gpu_utilization'));
    expect(gpuGraphs.map((widget) => widget.properties.title)).toEqual(['model-01 v1: GPU (%)', 'model-01 v2: GPU (%)']);
    expect(graphsOf('model-00', 'v1')).toHaveLength(4);
    expect(graphsOf('model-01', 'v1')).toHaveLength(5);
  });

  test('draws p50, p95 and p99 response time with the p95 and p99 targets in seconds', () => {
    const latency = graphsOf('model-00', 'v1').find((widget) => widget.properties.title?.endsWith('response time'));
    const stats = readMetrics(latency!).map((entry) => [entry[1], (entry[entry.length - 1] as { stat: string }).stat]);
    expect(stats).toEqual([
      ['TargetResponseTime', 'p50'],
      ['TargetResponseTime', 'p95'],
      ['TargetResponseTime', 'p99'],
    ]);
    expect(latency?.properties.annotations?.horizontal?.map(({ value, label }) => ({ value, label }))).toEqual([
      { value: 0.3, label: 'p95 target 300 ms' },
      { value: 0.5, label: 'p99 target 500 ms' },
    ]);
  });

  test('graphs requests per second as the request count divided by its period, which grows with the time range', () => {
    const traffic = graphsOf('model-00', 'v1').find((widget) => widget.properties.title?.includes('requests/s'));
    const expressions = (traffic?.properties.metrics ?? []).filter((entry) => typeof entry[0] === 'object').map((entry) => (entry[0] as { expression: string }).expression);
    expect(expressions).toEqual(['requests / PERIOD(requests)', 'IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)']);
    expect(readMetrics(traffic!).map((entry) => [entry[1], (entry[entry.length - 1] as { stat: string }).stat])).toEqual(
      expect.arrayContaining([
        ['RequestCount', 'Sum'],
        ['HTTPCode_Target_5XX_Count', 'Sum'],
      ]),
    );
  });

  test('reads healthy targets from the target group and pods, CPU and memory from Container Insights by cluster, namespace and Deployment', () => {
    const metrics = graphsOf('model-01', 'v2').flatMap(readMetrics);
    const insights = metrics.filter((entry) => entry[0] === 'ContainerInsights');
    expect(insights.map((entry) => entry[1])).toEqual([
      'replicas_ready',
      'replicas_desired',
      'pod_cpu_utilization_over_pod_limit',
      'pod_memory_utilization_over_pod_limit',
      'pod_gpu_utilization',
      'pod_gpu_memory_utilization',
    ]);
    for (const entry of insights) {
      const dimensions = Object.fromEntries([0, 1, 2].map((index) => [entry[2 + index * 2], entry[3 + index * 2]]));
      expect(dimensions).toEqual({ ClusterName: 'mlops-dev', Namespace: 'team-1', PodName: 'model-01-v2' });
    }
    const healthy = metrics.find((entry) => entry[1] === 'HealthyHostCount');
    expect([healthy?.[0], (healthy?.[healthy.length - 1] as { stat: string }).stat]).toEqual(['AWS/ApplicationELB', 'Minimum']);
  });

  test("reads every load balancer metric of a version from the load balancer and that version's own target group", () => {
    const { values, widgets: graphs } = dashboard(2, 2);
    const valueOf = (marker: unknown) => JSON.stringify(values[Number(/^@value(\d+)@$/.exec(String(marker))?.[1] ?? -1)]);
    const targetGroups = new Map<string, string>();
    for (const model of ['model-00', 'model-01']) {
      for (const version of ['v1', 'v2']) {
        const alb = graphs
          .filter((widget) => widget.properties.title?.startsWith(`${model} ${version}: `))
          .flatMap(readMetrics)
          .filter((entry) => entry[0] === 'AWS/ApplicationELB');
        expect(alb.length).toBeGreaterThan(0);
        const read = new Set(
          alb.map((entry) => {
            const dimensions = Object.fromEntries([0, 1].map((index) => [entry[2 + index * 2], entry[3 + index * 2]]));
            // The Ingress stack's load balancer, by its own full name.
            expect(valueOf(dimensions.LoadBalancer)).toMatch(/^\{"Fn::GetStackOutput":\{"StackName":"Ingress",.*LoadBalancerFullName/);
            return valueOf(dimensions.TargetGroup);
          }),
        );
        expect(read.size).toBe(1);
        const [targetGroup] = read;
        expect(targetGroup).toMatch(new RegExp(`"Fn::GetAtt":\\["TargetGroup${model.replace(/-/g, '')}${version}[0-9A-F]{8}","TargetGroupFullName"\\]`));
        targetGroups.set(`${model} ${version}`, targetGroup);
      }
    }
    expect(new Set(targetGroups.values()).size).toBe(4);
  });

  test('reads each deploy-time name whole, which CloudFormation resolves inside the Fn::Join of the body, never through Fn::Split or Fn::Sub', () => {
    const { values } = dashboard(2, 2, true);
    for (const value of values) {
      expect(Object.keys(value as object)).toEqual([expect.stringMatching(/^(Fn::GetAtt|Fn::GetStackOutput)$/)]);
    }
  });

  test(`stays within the CloudWatch dashboard limits, and under ${DASHBOARD_TEMPLATE_SHARE * 100} % of the template limit, for 20 models of 3 versions, all on GPUs`, () => {
    const { body, deployed, widgets: many } = dashboard(20, 3, true);
    const metricsOf = (widget: Widget) => widget.properties.metrics?.length ?? 0;
    const counts = { widgets: many.length, metrics: many.reduce((sum, widget) => sum + metricsOf(widget), 0), metricsPerWidget: Math.max(...many.map(metricsOf)) };
    expect(counts.widgets).toBe(20 + 20 * 3 * 5);
    for (const limit of ['widgets', 'metrics', 'metricsPerWidget'] as const) {
      expect({ limit, count: counts[limit] <= DASHBOARD_LIMITS[limit] }).toEqual({ limit, count: true });
    }
    // As the template holds it (JSON text and deploy-time values, inside JSON), and as CloudWatch receives it.
    expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThan(TEMPLATE_LIMIT_BYTES * DASHBOARD_TEMPLATE_SHARE);
    expect(Buffer.byteLength(deployed)).toBeLessThan(TEMPLATE_LIMIT_BYTES * DASHBOARD_TEMPLATE_SHARE);
  });

  test('fails synth, naming the limit, when the dashboard would hold more widgets than CloudWatch allows', () => {
    const fixture = targetGroupFixture(testApp());
    const shared = fixture.targetGroup('shared').targetGroupFullName;
    new ServingDashboard(fixture.serving, 'Dashboard', {
      dashboardName: 'too-big',
      clusterName: 'mlops-dev',
      loadBalancerFullName: fixture.loadBalancer.loadBalancerFullName,
      models: models(() => shared, 100, 1, true),
    });
    expect(() => Template.fromStack(fixture.serving)).toThrow(/600 widgets, more than the 500 CloudWatch allows on one dashboard/);
  });

  test('passes cdk-nag and the Control Tower rules with no acknowledgment', () => {
    const findings = policyFindings((app) => {
      const fixture = targetGroupFixture(app);
      new ServingDashboard(fixture.serving, 'Dashboard', {
        dashboardName: 'mlops-dev-serving',
        clusterName: 'mlops-dev',
        loadBalancerFullName: fixture.loadBalancer.loadBalancerFullName,
        models: models((name) => fixture.targetGroup(name).targetGroupFullName, 1, 2),
      });
      return 'Serving/Dashboard';
    });
    expect(findings).toEqual([]);
  });
});
