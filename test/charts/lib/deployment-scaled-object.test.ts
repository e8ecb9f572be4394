import { Chart } from 'cdk8s';
import { DeploymentScaledObject, DeploymentScaledObjectProps, RequestRateTrigger } from '../../../charts/lib/deployment-scaled-object';
import { chartTestApp } from '../../helpers/chart-app';
import { KubeObject } from '../../helpers/kube-objects';
import { validateKubernetesObject } from '../../helpers/kubernetes-schema';

/** The parts of a KEDA ScaledObject's spec these tests read. */
interface ScaledObjectSpec {
  advanced: { horizontalPodAutoscalerConfig: { name: string; behavior: object } };
  triggers: { type: string; metricType?: string; authenticationRef?: { name: string; kind: string }; metadata: Record<string, string> }[];
}

const PROPS: DeploymentScaledObjectProps = {
  name: 'fraud-scorer-v7',
  namespace: 'fraud',
  labels: { 'mlops.platform/model': 'fraud-scorer', 'mlops.platform/model-version': 'v7' },
  minReplicas: 4,
  maxReplicas: 24,
  targetCpuUtilization: 60,
  windows: [{ timezone: 'Europe/Dublin', start: '45 7 * * 1-5', end: '0 10 * * 1-5', minReplicas: 10 }],
};

const REQUEST_RATE: RequestRateTrigger = {
  loadBalancerFullName: 'app/mlops-prod/50dc6c495c0c9188',
  targetGroupFullName: 'targetgroup/fraud-scorer-v7/73e2d6bc24d8a067',
  region: 'eu-west-1',
  podRequestsPerSecond: 200,
  authenticationName: 'aws-cloudwatch',
};

function render(props: Partial<DeploymentScaledObjectProps> = {}): KubeObject<ScaledObjectSpec> {
  const chart = new Chart(chartTestApp(), 'test');
  new DeploymentScaledObject(chart, 'Autoscaler', { ...PROPS, ...props });
  return chart.toJson()[0] as KubeObject<ScaledObjectSpec>;
}

const cloudWatchTriggers = (scaledObject: KubeObject<ScaledObjectSpec>) => scaledObject.spec.triggers.filter((trigger) => trigger.type === 'aws-cloudwatch');

describe('DeploymentScaledObject', () => {
  test('has no request-rate trigger unless requestRate is given: CPU and the windows only', () => {
    expect(render().spec.triggers.map((trigger) => trigger.type)).toEqual(['cpu', 'cron']);
    expect(render({ requestRate: REQUEST_RATE }).spec.triggers.map((trigger) => trigger.type)).toEqual(['cpu', 'aws-cloudwatch', 'cron']);
  });

  test("reads the target group's ALB request count, summed per minute, through its load balancer, in its region", () => {
    const [trigger] = cloudWatchTriggers(render({ requestRate: REQUEST_RATE }));
    expect(trigger.metadata).toMatchObject({
      awsRegion: 'eu-west-1',
      namespace: 'AWS/ApplicationELB',
      metricName: 'RequestCount',
      // CloudWatch publishes the per-target-group RequestCount with both dimensions, and serves it only by both.
      dimensionName: 'LoadBalancer;TargetGroup',
      dimensionValue: 'app/mlops-prod/50dc6c495c0c9188;targetgroup/fraud-scorer-v7/73e2d6bc24d8a067',
      metricStat: 'Sum',
      metricStatPeriod: '60',
    });
  });

  test('divides the requests by the pods running, so the pods wanted are the requests over each pod\'s share', () => {
    const [trigger] = cloudWatchTriggers(render({ requestRate: REQUEST_RATE }));
    expect(trigger.metricType).toBe('AverageValue');
  });

  test('aims each pod at 70 % of the requests it sustains, per minute like the metric', () => {
    const target = (requestRate: Partial<RequestRateTrigger>) =>
      cloudWatchTriggers(render({ requestRate: { ...REQUEST_RATE, ...requestRate } }))[0].metadata.targetMetricValue;
    // 200 req/s × 60 s × 70 %.
    expect(target({})).toBe('8400');
    expect(target({ podRequestsPerSecond: 1.1 })).toBe('46.2');
    expect(target({ podRequestsPerSecond: 0.5, targetPercent: 50 })).toBe('15');
  });

  test('refuses a share that is not a percentage above 0', () => {
    expect(() => render({ requestRate: { ...REQUEST_RATE, targetPercent: 0 } })).toThrow('requestRate.targetPercent must be above 0 and at most 100, got 0');
    expect(() => render({ requestRate: { ...REQUEST_RATE, targetPercent: 120 } })).toThrow(/got 120/);
  });

  test('reads the newest minute, from the last five, and wants no pods for it when the group had no requests', () => {
    const [trigger] = cloudWatchTriggers(render({ requestRate: REQUEST_RATE }));
    expect(trigger.metadata).toMatchObject({ metricCollectionTime: '300', metricEndTimeOffset: '0', minMetricValue: '0' });
    // KEDA refuses a collection time that is not a multiple of the period.
    expect(Number(trigger.metadata.metricCollectionTime) % Number(trigger.metadata.metricStatPeriod)).toBe(0);
    expect(trigger.metadata.ignoreNullValues).toBeUndefined();
  });

  test("calls CloudWatch with the cluster-wide authentication it names, KEDA operator's identity", () => {
    const [trigger] = cloudWatchTriggers(render({ requestRate: REQUEST_RATE }));
    expect(trigger.authenticationRef).toEqual({ name: 'aws-cloudwatch', kind: 'ClusterTriggerAuthentication' });
  });

  test('keeps the HPA behaviour, bounds and other triggers whether or not requests are counted', () => {
    const withoutRequests = render();
    const withRequests = render({ requestRate: REQUEST_RATE });
    expect(withRequests.spec.advanced).toEqual(withoutRequests.spec.advanced);
    expect({ ...withRequests.spec, triggers: undefined }).toEqual({ ...withoutRequests.spec, triggers: undefined });
    expect(withRequests.spec.triggers.filter((trigger) => trigger.type !== 'aws-cloudwatch')).toEqual(withoutRequests.spec.triggers);
  });

  test('matches the KEDA ScaledObject schema with the request-rate trigger', () => {
    const scaledObject = render({ requestRate: REQUEST_RATE });
    expect(() => validateKubernetesObject(scaledObject)).not.toThrow();
    const broken = { ...scaledObject, spec: { ...scaledObject.spec, triggers: [{ ...cloudWatchTriggers(scaledObject)[0], metadata: 'RequestCount' }] } };
    expect(() => validateKubernetesObject(broken)).toThrow(/triggers\/0\/metadata/);
  });
});
