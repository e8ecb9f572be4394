import { Match } from 'aws-cdk-lib/assertions';
import { ENVIRONMENTS } from '../../helpers/app';
import { committedConfig, committedStageAssembly, committedTemplate } from '../../helpers/committed-assembly';

describe.each(ENVIRONMENTS)('%s network stack', (name) => {
  const config = committedConfig(name);
  const template = committedTemplate(name, 'Network');
  const zones = config.availabilityZones.length;

  test('creates the VPC with the configured CIDR', () => {
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: config.network.vpcCidr });
  });

  test('places public, private, isolated, load-balancer and endpoint subnets in every configured zone', () => {
    for (const zone of config.availabilityZones) {
      for (const [name, type] of [['Public', 'Public'], ['Private', 'Private'], ['Isolated', 'Isolated'], ['LoadBalancer', 'Isolated'], ['Endpoints', 'Isolated']]) {
        template.hasResourceProperties('AWS::EC2::Subnet', {
          AvailabilityZone: zone,
          Tags: Match.arrayWith([
            { Key: 'aws-cdk:subnet-name', Value: name },
            { Key: 'aws-cdk:subnet-type', Value: type },
          ]),
        });
      }
    }
    template.resourceCountIs('AWS::EC2::Subnet', 5 * zones);
  });

  test.each([
    ['LoadBalancer', 'loadBalancer'],
    ['Endpoints', 'endpoints'],
  ] as const)('sizes the %s subnets as configured', (group, field) => {
    const subnets = template.findResources('AWS::EC2::Subnet', {
      Properties: { Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-name', Value: group }]) },
    });
    const masks = Object.values(subnets).map((subnet) => Number(String(subnet.Properties.CidrBlock).split('/')[1]));
    expect(masks).toEqual(config.availabilityZones.map(() => config.network.subnetMasks[field]));
  });

  test('runs as many NAT gateways as configured', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', config.network.natGateways);
  });

  test('assigns no public IP automatically, even in public subnets', () => {
    const subnets = template.findResources('AWS::EC2::Subnet');
    for (const subnet of Object.values(subnets)) {
      expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
    }
  });

  test('tags no subnet for EKS load balancers: the shared load balancer is built in CDK', () => {
    for (const key of ['kubernetes.io/role/elb', 'kubernetes.io/role/internal-elb']) {
      template.resourcePropertiesCountIs('AWS::EC2::Subnet', { Tags: Match.arrayWith([Match.objectLike({ Key: key })]) }, 0);
    }
  });

  test('routes S3 traffic of private and isolated subnets through a gateway endpoint', () => {
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] },
    });
    const gateway = Object.values(template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Gateway' } }))[0];
    expect(gateway.Properties.RouteTableIds).toHaveLength(2 * zones);
  });

  test('creates exactly the configured interface endpoints in the endpoint subnets, open to the VPC on 443 only', () => {
    template.resourcePropertiesCountIs('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Interface' }, config.network.interfaceEndpoints.length);
    const services: Record<string, string> = {
      ecrApi: 'ecr.api',
      ecrDocker: 'ecr.dkr',
      sts: 'sts',
      secretsManager: 'secretsmanager',
      cloudWatchLogs: 'logs',
      s3: 's3',
      cloudWatchMetrics: 'monitoring',
    };
    const endpointSubnets = Object.keys(
      template.findResources('AWS::EC2::Subnet', { Properties: { Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-name', Value: 'Endpoints' }]) } }),
    ).map((logicalId) => ({ Ref: logicalId }));
    for (const endpoint of config.network.interfaceEndpoints) {
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Interface',
        ServiceName: `com.amazonaws.${config.region}.${services[endpoint]}`,
        PrivateDnsEnabled: true,
        SubnetIds: endpointSubnets,
      });
    }
    if (config.network.interfaceEndpoints.length > 0) {
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        GroupDescription: Match.stringLikeRegexp('Interface endpoints'),
        SecurityGroupIngress: [{ CidrIp: config.network.vpcCidr, FromPort: 443, ToPort: 443, IpProtocol: 'tcp' }],
      });
    }
  });

  test('records flow logs into a KMS-encrypted log group with the configured retention', () => {
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: config.network.flowLogs.trafficType,
      LogDestinationType: 'cloud-watch-logs',
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: `/mlops/${name}/vpc-flow-logs`,
      RetentionInDays: config.network.flowLogs.retentionDays,
      KmsKeyId: Match.objectLike({ 'Fn::GetAtt': Match.anyValue() }),
    });
  });

  test('lets CloudWatch Logs use the flow log key for that log group only', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: `logs.${config.region}.amazonaws.com` },
            Condition: {
              ArnLike: {
                'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:${config.region}:${config.account}:log-group:/mlops/${name}/vpc-flow-logs`,
              },
            },
          }),
        ]),
      },
    });
  });

  test('strips the default security group of its rules', () => {
    template.resourceCountIs('Custom::VpcRestrictDefaultSG', 1);
  });
});

// How many NAT gateways and interface endpoints an environment has is its config's choice, stated
// per environment above; the committed files' particular choices are not the code's behaviour.
describe('network stack across environments', () => {
  test('needs no AWS lookup to synthesize', () => {
    for (const name of ENVIRONMENTS) {
      const assembly = committedStageAssembly(name);
      expect(assembly.manifest.missing ?? []).toEqual([]);
    }
  });
});
