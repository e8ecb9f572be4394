import { Construct } from 'constructs';
import { acknowledgeEmptyStack } from '../compliance';
import { clusterName, physicalName } from '../config/derived';
import { PlatformLoadBalancer } from '../constructs/platform-load-balancer';
import { ServingDashboard } from '../constructs/serving-dashboard';
import { ModelStack } from './model-stack';
import { PlatformStack, PlatformStackProps } from './platform-stack';

/** Properties of a {@link MonitoringStack}. */
export interface MonitoringStackProps extends PlatformStackProps {
  /** Shared load balancer from the ingress stack, whose target group metrics the dashboard shows. */
  readonly loadBalancer: PlatformLoadBalancer;
  /** The model stacks, whose target groups the dashboard shows. */
  readonly models: ModelStack[];
}

/**
 * The environment's serving dashboard, in a stack of its own: it names every model version's
 * target group, so it follows the model stacks, and its body stays out of their templates.
 */
export class MonitoringStack extends PlatformStack {
  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const { config } = props;
    if (props.models.length > 0) {
      new ServingDashboard(this, 'Dashboard', {
        dashboardName: physicalName(config, 'serving'),
        // Literal names keep deploy-time values, each a cross-stack reference, out of the body.
        clusterName: clusterName(config),
        loadBalancerFullName: props.loadBalancer.loadBalancer.loadBalancerFullName,
        models: props.models.map(({ model, team, service }) => ({
          name: model.name,
          namespace: team,
          gpu: model.versions.some((version) => version.gpu !== undefined),
          p95Milliseconds: model.slo.p95Milliseconds,
          p99Milliseconds: model.slo.p99Milliseconds,
          versions: model.versions.map((version) => ({
            name: version.name,
            targetGroupFullName: service.targetGroups[version.name].targetGroupFullName,
            deploymentName: `${model.name}-${version.name}`,
          })),
        })),
      });
    }
    // Without models there is nothing to show, and this stack then holds nothing.
    acknowledgeEmptyStack(this);
  }
}
