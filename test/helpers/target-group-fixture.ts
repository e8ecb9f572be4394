import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';

/** Account and region of the fixture's stacks. */
export const FIXTURE_ENV = { account: '123456789012', region: 'eu-west-1' };

/**
 * An internal load balancer with an HTTP listener in an `Ingress` stack, and a `Serving` stack for the
 * construct under test, as the platform splits them. `targetGroup(name)` adds to the Serving stack an
 * IP target group that a listener rule forwards to: a target group has metrics only once a listener
 * of a load balancer uses it (its LoadBalancer dimension).
 */
export function targetGroupFixture(app: App) {
  const ingress = new Stack(app, 'Ingress', { env: FIXTURE_ENV });
  const vpc = new ec2.Vpc(ingress, 'Vpc', {
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    natGateways: 0,
    subnetConfiguration: [{ name: 'Private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
  });
  const loadBalancer = new elbv2.ApplicationLoadBalancer(ingress, 'LoadBalancer', { vpc, internetFacing: false });
  const listener = loadBalancer.addListener('Http', {
    protocol: elbv2.ApplicationProtocol.HTTP,
    port: 80,
    defaultAction: elbv2.ListenerAction.fixedResponse(404),
  });
  const serving = new Stack(app, 'Serving', { env: FIXTURE_ENV });
  let rules = 0;
  const targetGroup = (name: string): elbv2.ApplicationTargetGroup => {
    const group = new elbv2.ApplicationTargetGroup(serving, `TargetGroup-${name}`, {
      vpc,
      port: 8080,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      healthCheck: { path: '/ping' },
    });
    rules += 1;
    new elbv2.ApplicationListenerRule(serving, `Rule-${name}`, {
      listener,
      priority: rules,
      conditions: [elbv2.ListenerCondition.hostHeaders([`${name}.models.example.internal`])],
      action: elbv2.ListenerAction.forward([group]),
    });
    return group;
  };
  return { ingress, serving, loadBalancer, targetGroup };
}
