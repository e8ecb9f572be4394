import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { hasRouter } from '../lib/config/router-sizing';
import { HttpService, PodIdentityServiceAccount } from './lib/http-workload';
import { ModelRouter } from './lib/model-router';
import { ModelVersionDeployment, ModelVersionDeploymentProps, SCORING_PORT } from './lib/model-version-deployment';
import { tcpPort } from './lib/network-rules';
import { TargetGroupBinding } from './lib/target-group-binding';

export { MODEL_PATH, SCORING_PORT } from './lib/model-version-deployment';
export type { ModelResources } from './lib/model-version-deployment';

/** Label naming the model on every object of its chart. */
export const MODEL_LABEL = 'mlops.platform/model';

/** Label naming the version on every object of one version. */
export const MODEL_VERSION_LABEL = 'mlops.platform/model-version';

/** One version of the model: what its pods run and the load balancer target group its pods join. */
export interface ModelVersionServing
  extends Omit<ModelVersionDeploymentProps, 'name' | 'namespace' | 'labels' | 'serviceAccountName' | 'registeredModel'> {
  /** Version name; its objects are `<model>-<version>`. */
  readonly name: string;
  /** ARN of the version's target group on the shared load balancer (a CDK target group). */
  readonly targetGroupArn: string;
}

/** Properties of a {@link ModelServingChart}. */
export interface ModelServingChartProps {
  /** The team, whose namespace the model runs in. */
  readonly team: string;
  /** Model name; names the service account and prefixes every version's objects. */
  readonly model: string;
  /** MLflow registered model the images were built from. */
  readonly registeredModel: string;
  /** The versions served; the first is the primary. */
  readonly versions: ModelVersionServing[];
  /** A version that receives a copy of a share of the primary's requests. @default - none */
  readonly shadow?: { readonly version: string; readonly percent: number };
  /** A version that answers when the primary fails. @default - none */
  readonly fallback?: string;
  /** Image of the model's router (images/model-router), needed with a shadow or a fallback. @default - no router */
  readonly routerImage?: string;
  /** Namespaces whose pods may call the model directly. */
  readonly allowedNamespaces: string[];
  /** CIDRs of the load balancer's own subnets, the only addresses outside the cluster admitted. */
  readonly loadBalancerSubnetCidrs: string[];
}

/**
 * One model: a {@link ModelVersionDeployment} per version, each joined to its own load balancer
 * target group by a TargetGroupBinding, one service account for the model's Pod Identity role, and a
 * NetworkPolicy admitting only the load balancer's subnets and the namespaces config lists. A model
 * with a shadow or a fallback gets a {@link ModelRouter} in front of its primary: the primary's
 * target group then holds the router's pods, which copy requests to the shadow and turn to the
 * fallback when the primary fails. The autoscalers need KEDA on the cluster: apply this chart after it.
 */
export class ModelServingChart extends Chart {
  constructor(scope: Construct, id: string, props: ModelServingChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    const namespace = props.team;
    const modelLabels = { 'app.kubernetes.io/part-of': props.team, [MODEL_LABEL]: props.model };
    const versionName = (version: string) => `${props.model}-${version}`;

    new PodIdentityServiceAccount(this, 'ServiceAccount', { name: props.model, namespace, labels: modelLabels });

    for (const version of props.versions) {
      const { targetGroupArn, ...deployment } = version;
      const name = versionName(version.name);
      new ModelVersionDeployment(this, `Version-${version.name}`, {
        ...deployment,
        name,
        namespace,
        labels: { ...modelLabels, 'app.kubernetes.io/name': name, [MODEL_VERSION_LABEL]: version.name },
        serviceAccountName: props.model,
        registeredModel: props.registeredModel,
      });
    }

    const [primary] = props.versions;
    // A version's Service, by its cluster DNS name.
    const upstream = (version: string) => ({ version, host: `${versionName(version)}.${namespace}.svc.cluster.local`, port: 80 });
    const routed = hasRouter(props);
    if (routed && !props.routerImage) {
      throw new Error(`model ${props.model}: a shadow or a fallback needs the router's image (routerImage)`);
    }
    const router =
      props.routerImage && routed
        ? new ModelRouter(this, 'Router', {
            name: `${props.model}-router`,
            image: props.routerImage,
            namespace,
            labels: modelLabels,
            primary: upstream(primary.name),
            shadow: props.shadow && { ...upstream(props.shadow.version), percent: props.shadow.percent },
            fallback: props.fallback ? upstream(props.fallback) : undefined,
          })
        : undefined;

    // In-cluster callers (allowedNamespaces) call <model>: the primary, through the router where there is one.
    const primaryLabels = { ...modelLabels, 'app.kubernetes.io/name': versionName(primary.name), [MODEL_VERSION_LABEL]: primary.name };
    new HttpService(this, 'Service', { name: props.model, namespace, labels: modelLabels }, router ? router.selector : primaryLabels);

    for (const version of props.versions) {
      // The router stands in front of the primary, so the primary's target group holds the router's pods.
      const service = router && version === primary ? router.serviceName : versionName(version.name);
      new TargetGroupBinding(this, `TargetGroupBinding-${version.name}`, {
        name: versionName(version.name),
        namespace,
        labels: { ...modelLabels, [MODEL_VERSION_LABEL]: version.name },
        targetGroupArn: version.targetGroupArn,
        serviceName: service,
        servicePort: 80,
      });
    }

    new k8s.KubeNetworkPolicy(this, 'AllowIngress', {
      metadata: { name: `${props.model}-ingress`, namespace, labels: modelLabels },
      spec: {
        podSelector: { matchLabels: { [MODEL_LABEL]: props.model } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              ...props.loadBalancerSubnetCidrs.map((cidr) => ({ ipBlock: { cidr } })),
              ...props.allowedNamespaces.map((allowed) => ({
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': allowed } },
              })),
              // The router's pods call the versions behind it.
              ...(router ? [{ podSelector: { matchLabels: router.selector } }] : []),
            ],
            ports: [tcpPort(SCORING_PORT)],
          },
        ],
      },
    });

    if (router) {
      new k8s.KubeNetworkPolicy(this, 'AllowRouterEgress', {
        metadata: { name: `${props.model}-router-egress`, namespace, labels: modelLabels },
        spec: {
          podSelector: { matchLabels: router.selector },
          policyTypes: ['Egress'],
          egress: [{ to: [{ podSelector: { matchLabels: { [MODEL_LABEL]: props.model } } }], ports: [tcpPort(SCORING_PORT)] }],
        },
      });
    }
  }
}
