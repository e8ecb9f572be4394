import * as path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from '../compliance';

/** Namespace KEDA's operator, metrics server and admission webhooks run in. */
export const KEDA_NAMESPACE = 'keda';

/**
 * The `keda` Helm chart, vendored from kedacore/charts at tag v2.20.2 (charts/helm/README.md says how to update it).
 * The chart's version is KEDA's own.
 */
export const KEDA_CHART_DIRECTORY = path.join(__dirname, '..', '..', 'charts', 'helm', 'keda');

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
 * the RuntimeDefault seccomp profile. No trigger used so far calls AWS, so the operator has no AWS role.
 *
 * The chart travels as a CDK asset, so the deploy installs exactly the files the policy tools checked
 * (scripts/policy-check.ts renders them) and needs no access to the chart repository.
 */
export class Keda extends Construct {
  /** The Helm release; ScaledObjects must be applied after it. */
  public readonly chart: eks.HelmChart;

  constructor(scope: Construct, id: string, props: KedaProps) {
    super(scope, id);
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
    });
    this.acknowledgeAssetRead(props.cluster, chartFiles);
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
