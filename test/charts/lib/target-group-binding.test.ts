import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Chart } from 'cdk8s';
import { TargetGroupBinding, TargetGroupBindingProps } from '../../../charts/lib/target-group-binding';
import { testApp } from '../../helpers/app';
import { chartTestApp } from '../../helpers/chart-app';
import { validateKubernetesObjects } from '../../helpers/kubernetes-schema';

const ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/Routi-v7Tar-1A2B3C4D5E6F/0123456789abcdef';

function render(props: Partial<TargetGroupBindingProps> = {}): unknown[] {
  const chart = new Chart(chartTestApp(), 'serving');
  new TargetGroupBinding(chart, 'Binding', {
    name: 'fraud-scorer-v7',
    namespace: 'fraud',
    labels: { 'mlops.platform/model': 'fraud-scorer', 'mlops.platform/model-version': 'v7' },
    targetGroupArn: ARN,
    serviceName: 'fraud-scorer-v7',
    servicePort: 80,
    ...props,
  });
  return chart.toJson();
}

describe('TargetGroupBinding', () => {
  test('binds the Service to the target group by ARN, with IP targets, and nothing else', () => {
    expect(render()).toEqual([
      {
        apiVersion: 'eks.amazonaws.com/v1',
        kind: 'TargetGroupBinding',
        metadata: {
          name: 'fraud-scorer-v7',
          namespace: 'fraud',
          labels: { 'mlops.platform/model': 'fraud-scorer', 'mlops.platform/model-version': 'v7' },
        },
        spec: { targetGroupARN: ARN, targetType: 'ip', serviceRef: { name: 'fraud-scorer-v7', port: 80 } },
      },
    ]);
  });

  test('matches the Auto Mode schema, with the Service port by number or by name', () => {
    expect(() => validateKubernetesObjects([...render(), ...render({ servicePort: 'http', labels: undefined })])).not.toThrow();
  });

  test('carries a target group ARN from the CDK through rendering, for the stack to fill in at deploy time', () => {
    const stack = new Stack(testApp(), 'Serving');
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'Private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const targetGroup = new elbv2.ApplicationTargetGroup(stack, 'TargetGroup', { vpc, targetType: elbv2.TargetType.IP, port: 8080 });
    const [binding] = render({ targetGroupArn: targetGroup.targetGroupArn }) as { spec: { targetGroupARN: unknown } }[];
    expect(stack.resolve(binding.spec.targetGroupARN)).toEqual({ Ref: stack.getLogicalId(targetGroup.node.defaultChild as elbv2.CfnTargetGroup) });
  });
});
