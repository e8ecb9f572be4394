import * as path from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import { CLOUDWATCH_TRIGGER_AUTHENTICATION_NAME, CloudWatchTriggerAuthentication } from '../../charts/lib/cloudwatch-trigger-authentication';
import { RequestRateTrigger } from '../../charts/lib/deployment-scaled-object';
import { acknowledgeWildcardResource } from '../compliance';
import { PodIdentityRole } from './pod-identity-role';

/** Namespace KEDA's operator, metrics server and admission webhooks run in. */
export const KEDA_NAMESPACE = 'keda';

/**
 * Service account of KEDA's operator, the only KEDA component that calls the scalers' sources (the metrics
 * server asks the operator); the chart's default `serviceAccount.operator.name`.
 */
export const KEDA_OPERATOR_SERVICE_ACCOUNT = 'keda-operator';

/**
 * The `keda` Helm chart, vendored from kedacore/charts at tag v2.20.2 (charts/helm/README.md says how to update it).
 * The chart's version is KEDA's own.
 */
export const KEDA_CHART_DIRECTORY = path.join(__dirname, '..', '..', 'charts', 'helm', 'keda');

/** Annotation on the KEDA operator's pods naming the service account its Pod Identity association is for. */
export const OPERATOR_POD_IDENTITY_ANNOTATION = 'mlops.platform/pod-identity';

/** Properties of a {@link Keda}. */
export interface KedaProps {
  /** Cluster KEDA is installed on. */
  readonly cluster: eks.ICluster;
}

/**
 * KEDA, installed from its vendored Helm chart with the chart's defaults: its CRDs (ScaledObject and the rest), the
 * operator that turns each ScaledObject into an HPA, the external metrics server that feeds that HPA its cron and
 * event metrics, and the admission webhooks that refuse a ScaledObject KEDA could not honour. The defaults already
 * run every pod as non-root with a read-only root filesystem, no privilege escalation, all capabilities dropped and
 * the RuntimeDefault seccomp profile.
 *
 * The `aws-cloudwatch` triggers call CloudWatch as the operator: its service account gets an EKS Pod Identity role
 * that may read metric data and nothing else, and a ClusterTriggerAuthentication lets a ScaledObject in any
 * namespace use it ({@link requestRateTrigger}).
 *
 * The chart travels as a CDK asset, so the deploy installs exactly the files the policy tools checked
 * (scripts/policy-check.ts renders them) and needs no access to the chart repository.
 */
export class Keda extends Construct {
  /** The Helm release; ScaledObjects must be applied after it. */
  public readonly chart: eks.HelmChart;
  /** The operator's Pod Identity role and its association, which the chart is installed after. */
  public readonly operatorIdentity: PodIdentityRole;
  /** The ClusterTriggerAuthentication for CloudWatch; ScaledObjects with a request-rate trigger are applied after it. */
  public readonly triggerAuthentication: eks.KubernetesManifest;
  /** Name of that ClusterTriggerAuthentication, for a trigger's `authenticationRef`. */
  public readonly cloudWatchAuthenticationName = CLOUDWATCH_TRIGGER_AUTHENTICATION_NAME;

  constructor(scope: Construct, id: string, props: KedaProps) {
    super(scope, id);
    this.operatorIdentity = new PodIdentityRole(this, 'OperatorRole', {
      cluster: props.cluster,
      namespace: KEDA_NAMESPACE,
      serviceAccount: KEDA_OPERATOR_SERVICE_ACCOUNT,
      description: 'KEDA operator: reads CloudWatch metric data for aws-cloudwatch triggers',
    });
    this.operatorIdentity.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
    acknowledgeWildcardResource(
      this.operatorIdentity,
      '*',
      'cloudwatch:GetMetricData has no resource-level permissions, so CloudWatch requires Resource "*"; the role can only read metric data.',
    );

    const chartFiles = new s3assets.Asset(this, 'ChartFiles', { path: KEDA_CHART_DIRECTORY });
    this.chart = new eks.HelmChart(this, 'Chart', {
      cluster: props.cluster,
      chartAsset: chartFiles,
      release: 'keda',
      namespace: KEDA_NAMESPACE,
      createNamespace: true,
      // Until the webhooks and the metrics server answer, ScaledObjects are refused or not served.
      wait: true,
      // Its pods may first wait for a general-pool node to launch; the deploying Lambda stops at 15 minutes.
      timeout: Duration.minutes(10),
      // Marks the operator's pod template as using Pod Identity, so that the deploy that brings the
      // association also rolls the operator: pods started before it (an upgraded cluster) would never
      // get credentials. A literal, so the policy tier can still render the chart with these values.
      values: { podAnnotations: { keda: { [OPERATOR_POD_IDENTITY_ANNOTATION]: `${KEDA_NAMESPACE}/${KEDA_OPERATOR_SERVICE_ACCOUNT}` } } },
    });
    // EKS gives a pod Pod Identity credentials only if its association exists when the pod is admitted.
    this.chart.node.addDependency(this.operatorIdentity);
    this.acknowledgeAssetRead(props.cluster, chartFiles);

    const authentication = new cdk8s.Chart(new cdk8s.App(), 'keda-authentication');
    new CloudWatchTriggerAuthentication(authentication, 'CloudWatch', { name: this.cloudWatchAuthenticationName });
    this.triggerAuthentication = new eks.KubernetesManifest(this, 'TriggerAuthentication', {
      cluster: props.cluster,
      manifest: authentication.toJson(),
    });
    // The chart installs the ClusterTriggerAuthentication CRD.
    this.triggerAuthentication.node.addDependency(this.chart);
  }

  /**
   * The request-rate trigger of a ScaledObject whose pods serve `targetGroup` behind `loadBalancer`: KEDA reads
   * the group's request count, in the group's region, with this construct's CloudWatch authentication.
   */
  public requestRateTrigger(
    targetGroup: elbv2.ApplicationTargetGroup,
    loadBalancer: elbv2.ApplicationLoadBalancer,
    podRequestsPerSecond: number,
  ): RequestRateTrigger {
    return {
      // The load balancer's own full name: the target group's cuts it out of the listener's ARN, an
      // Fn::Split of an Fn::GetStackOutput across stacks, which CloudFormation does not accept everywhere.
      loadBalancerFullName: loadBalancer.loadBalancerFullName,
      targetGroupFullName: targetGroup.targetGroupFullName,
      region: Stack.of(targetGroup).region,
      podRequestsPerSecond,
      authenticationName: this.cloudWatchAuthenticationName,
    };
  }

  /** HelmChart lets the kubectl provider read the chart asset with the CDK's standard grant on the bootstrap bucket. */
  private acknowledgeAssetRead(cluster: eks.ICluster, chartFiles: s3assets.Asset): void {
    const role = eks.KubectlProvider.getKubectlProvider(this, cluster)?.role;
    if (!role) {
      return;
    }
    const reason =
      'The kubectl provider reads chart assets from the CDK bootstrap bucket; HelmChart grants it the CDK standard read (s3:GetObject*, s3:GetBucket*, s3:List*) on that bucket only.';
    Validations.of(role).acknowledge(
      ...['s3:GetBucket*', 's3:GetObject*', 's3:List*'].map((action) => ({ id: `AwsSolutions::AwsSolutions-IAM5[Action::${action}]`, reason })),
    );
    acknowledgeWildcardResource(role, `${chartFiles.bucket.bucketArn}/*`, reason);
  }
}
