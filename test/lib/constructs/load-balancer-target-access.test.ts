import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { LoadBalancerTargetAccess } from '../../../lib/constructs/load-balancer-target-access';
import { PlatformLoadBalancer } from '../../../lib/constructs/platform-load-balancer';
import { PlatformVpc } from '../../../lib/constructs/platform-vpc';
import { testApp } from '../../helpers/app';

const ENV = { account: '123456789012', region: 'eu-west-1' };

/**
 * An app laid out like an environment: the VPC, the targets' security group (as EKS gives it, imported by ID from
 * its cluster's stack), the load balancer, and the targets' stack that opens the port, each a stack of its own.
 */
function environment() {
  const app = testApp();
  const network = new Stack(app, 'Network', { env: ENV });
  const { vpc } = new PlatformVpc(network, 'Vpc', { availabilityZones: ['eu-west-1a', 'eu-west-1b'], flowLogGroupName: '/test/flow-logs' });
  const cluster = new Stack(app, 'Cluster', { env: ENV });
  const clusterGroup = new ec2.SecurityGroup(cluster, 'ClusterSecurityGroup', { vpc, description: 'Stands in for the EKS cluster security group' });
  const ingress = new Stack(app, 'Ingress', { env: ENV });
  const loadBalancer = new PlatformLoadBalancer(ingress, 'LoadBalancer', { vpc, inboundCidrs: ['10.0.0.0/16'] });
  const serving = new Stack(app, 'Serving', { env: ENV });
  const targetSecurityGroup = ec2.SecurityGroup.fromSecurityGroupId(serving, 'TargetSecurityGroup', clusterGroup.securityGroupId);
  new LoadBalancerTargetAccess(serving, 'ModelAccess', {
    loadBalancerSecurityGroup: loadBalancer.securityGroup,
    targetSecurityGroup,
    port: 8080,
    description: 'Load balancer to model pods',
  });
  // Synthesizes every stack, which fails on a dependency cycle between them.
  const assembly = app.synth();
  const template = (stack: Stack) => Template.fromJSON(assembly.getStackByName(stack.stackName).template);
  return { assembly, cluster, ingress, serving, template };
}

describe('LoadBalancerTargetAccess', () => {
  const { assembly, cluster, ingress, serving, template } = environment();
  const servingTemplate = template(serving);
  /** A value another stack publishes (cdk.json turns on cross-stack references by stack output). */
  const imported = (stack: Stack) => ({ 'Fn::GetStackOutput': expect.objectContaining({ StackName: stack.stackName }) });

  test("lets the load balancer's security group send to the targets' on the one port", () => {
    const egress = Object.values(servingTemplate.findResources('AWS::EC2::SecurityGroupEgress'));
    expect(egress.map((rule) => rule.Properties)).toEqual([
      {
        IpProtocol: 'tcp',
        FromPort: 8080,
        ToPort: 8080,
        Description: 'Load balancer to model pods',
        GroupId: imported(ingress),
        DestinationSecurityGroupId: imported(cluster),
      },
    ]);
  });

  test("lets the targets' security group receive from the load balancer's on the one port", () => {
    const ingressRules = Object.values(servingTemplate.findResources('AWS::EC2::SecurityGroupIngress'));
    expect(ingressRules.map((rule) => rule.Properties)).toEqual([
      {
        IpProtocol: 'tcp',
        FromPort: 8080,
        ToPort: 8080,
        Description: 'Load balancer to model pods',
        GroupId: imported(cluster),
        SourceSecurityGroupId: imported(ingress),
      },
    ]);
  });

  test("puts both rules in the targets' stack, which depends on the load balancer's and the cluster's, never the reverse", () => {
    for (const stack of [ingress, cluster]) {
      template(stack).resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
      template(stack).resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    }
    const dependencies = (stack: Stack) => assembly.getStackByName(stack.stackName).dependencies.map((artifact) => artifact.id);
    expect(dependencies(serving)).toEqual(expect.arrayContaining([ingress.artifactId, cluster.artifactId]));
    expect(dependencies(ingress)).not.toContain(serving.artifactId);
    expect(dependencies(cluster)).not.toContain(serving.artifactId);
  });
});
