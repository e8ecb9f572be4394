import { Template } from 'aws-cdk-lib/assertions';
import { ENVIRONMENTS, fixtureEnvironment, MINIMAL_ENVIRONMENT, MINIMAL_MODEL, testStage } from '../../helpers/app';
import { committedConfig, committedModelStackIds, committedStageFacts, committedTemplate, StageStackId } from '../../helpers/committed-assembly';
/** The ids of the committed environment's model stacks, `Model-<model>`, in stage order, as the shared assembly records them. */
const modelStackIds = committedModelStackIds;

type StackOutputReference = { 'Fn::GetStackOutput': { StackName: string; OutputName: string } };


describe.each(ENVIRONMENTS)('%s monitoring stack', (name) => {
  const config = committedConfig(name);
  const stage = committedStageFacts(name);
  const template = committedTemplate(name, 'Monitoring');
  const models = config.teams.flatMap((team) => team.models);
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));

  /** The stack of the stage that a Fn::GetStackOutput reads, and what that output holds in its template. */
  const output = (reference: StackOutputReference): { stack: StageStackId; value: { 'Fn::GetAtt': [string, string] } } => {
    const { StackName, OutputName } = reference['Fn::GetStackOutput'];
    const stack = (Object.keys(stage.stacks) as StageStackId[]).find((candidate) => stage.stacks[candidate].stackName === StackName);
    expect([StackName, stack]).toEqual([StackName, expect.any(String)]);
    const value = committedTemplate(name, stack!).toJSON().Outputs?.[OutputName]?.Value;
    expect([OutputName, value]).toEqual([OutputName, { 'Fn::GetAtt': [expect.any(String), expect.any(String)] }]);
    return { stack: stack!, value };
  };

  test('holds one dashboard where config serves models, and nothing else', () => {
    expect(dashboards).toHaveLength(models.length > 0 ? 1 : 0);
    expect(Object.keys(template.toJSON().Resources ?? {})).toHaveLength(dashboards.length);
  });

  test('is deployed after the Ingress stack and every model stack, whose names it shows', () => {
    expect(stage.stacks.Monitoring.dependencies).toEqual(expect.arrayContaining([...(models.length > 0 ? ['Ingress'] : []), ...modelStackIds(name)]));
  });

  if (models.length === 0) {
    return;
  }
  // The body is an Fn::Join of JSON text and deploy-time values; each value is written out as a
  // marker naming its position, so the text parses and a test can tell which value a metric reads.
  const [separator, parts] = dashboards[0].Properties.DashboardBody['Fn::Join'] as [string, unknown[]];
  const values = parts.filter((part) => typeof part !== 'string');
  const body = parts.map((part) => (typeof part === 'string' ? part : `@value${values.indexOf(part)}@`)).join(separator);
  const valueOf = (marker: unknown) => values[Number(/^@value(\d+)@$/.exec(String(marker))?.[1] ?? -1)];

  test("names only other stacks' outputs, read whole: CloudFormation resolves Fn::GetStackOutput inside Fn::Join, not inside Fn::Split or Fn::Sub", () => {
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) {
      expect(Object.keys(value as object)).toEqual(['Fn::GetStackOutput']);
    }
  });

  test("graphs each model version from that version's target group on the shared load balancer", () => {
    type MetricEntry = (string | Record<string, unknown>)[];
    const widgets = JSON.parse(body).widgets as { properties: { title?: string; metrics?: MetricEntry[] } }[];
    const resourceOf = (marker: unknown) => {
      const { stack, value } = output(valueOf(marker) as StackOutputReference);
      return `${stack} ${value['Fn::GetAtt'].join('.')}`;
    };
    for (const model of models) {
      for (const version of model.versions) {
        const metrics = widgets
          .filter((widget) => widget.properties.title?.startsWith(`${model.name} ${version.name}: `))
          .flatMap((widget) => widget.properties.metrics ?? [])
          .filter((entry) => entry[0] === 'AWS/ApplicationELB');
        expect(metrics.length).toBeGreaterThan(0);
        for (const entry of metrics) {
          const dimensions = Object.fromEntries([0, 1].map((index) => [entry[2 + index * 2], entry[3 + index * 2]]));
          expect(resourceOf(dimensions.LoadBalancer)).toMatch(/^Ingress LoadBalancer[0-9A-F]{8}\.LoadBalancerFullName$/);
          expect(resourceOf(dimensions.TargetGroup)).toMatch(
            new RegExp(`^Model-${model.name} ModelRouting${version.name.replace(/-/g, '')}TargetGroup[0-9A-F]{8}\\.TargetGroupFullName$`),
          );
        }
      }
    }
  });
});

describe('a monitoring stack built from fixtures', () => {
  const dashboards = (models: unknown[]) => {
    const config = fixtureEnvironment({
      ...MINIMAL_ENVIRONMENT,
      ingress: { servingDomain: 'models.example.internal' },
      teams: [{ name: 'growth', quota: { cpu: 8, memoryGiB: 16, pods: 20 }, models }],
    });
    return Object.keys(Template.fromStack(testStage(config).monitoring).findResources('AWS::CloudWatch::Dashboard')).length;
  };

  test('draws a dashboard only once a team serves a model', () => {
    expect(dashboards([])).toBe(0);
    expect(dashboards([MINIMAL_MODEL])).toBe(1);
  });
});
