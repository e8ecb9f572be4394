import { Stack } from 'aws-cdk-lib';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as cdk8s from 'cdk8s';
import { Construct, IDependable } from 'constructs';
import { ModelResources } from '../../charts/lib/model-version-deployment';
import { ScheduledJobProps } from '../../charts/lib/scheduled-job';
import { MODEL_LABEL } from '../../charts/model-serving-chart';
import { BATCH_STARTING_DEADLINE_MINUTES } from '../config/batch-inference';
import { jobMetricNamespace, ScheduledJobKind } from '../config/job-metrics';
import { GpuNodePools } from './gpu-node-pools';
import { MLFLOW_IMAGE_DIRECTORY } from './mlflow-server';
import { PlatformCluster } from './platform-cluster';
import { PlatformManifest } from './platform-manifest';
import { ScheduledJobAlarm } from './scheduled-job-alarm';
import { TeamNamespace } from './team-namespace';

/** Metric each complete run of a scheduled job publishes once, with value 1, and its missed-run alarm watches. */
export const JOB_SUCCEEDED_METRIC = 'Succeeded';

/** Properties every scheduled job of a model has. */
export interface ScheduledModelJobProps {
  /** Cluster the job runs on. */
  readonly cluster: PlatformCluster;
  /** Namespace of the model's team; the job is applied after it. */
  readonly namespace: TeamNamespace;
  /** Model name; the job and its service account are `<model>-<job>`. */
  readonly model: string;
  /** Cron expression (5 fields) of the runs, at most once a day. */
  readonly schedule: string;
  /** IANA time zone of the schedule (and of a batch run's date). */
  readonly timeZone: string;
  /** Longest a run may take, its retries included, in minutes. */
  readonly timeoutMinutes: number;
  /** Times a failed run starts again in a new pod. */
  readonly retries: number;
  /** CPU and memory of the job's heavy step. */
  readonly resources: ModelResources;
  /** Size of the pod's scratch volume, in GiB. */
  readonly workVolumeGiB: number;
  /** Hours without a complete run after which the missed-run alarm fires (at most 168). */
  readonly alarmWindowHours: number;
  /** Topic the job's alarms notify. */
  readonly alarmTopic: sns.ITopic;
  /** Environment the job belongs to, e.g. `mlops-prod`: a dimension of its metrics and part of their namespace (lib/config/job-metrics.ts). */
  readonly environment: string;
}

/** What sets one kind of scheduled job apart in the names and labels of what it creates. */
export interface ScheduledJobKindProps {
  /** The kind, as its metric namespace names it. */
  readonly kind: ScheduledJobKind;
  /** End of the job's name, `<model>-<suffix>`. */
  readonly suffix: string;
  /** The job's `app.kubernetes.io/component` label. */
  readonly component: string;
}

/**
 * What a model's scheduled jobs (batch inference, training, drift report) share outside the
 * cluster: a name, `<model>-<suffix>`; metrics in a CloudWatch namespace of the model's own, which
 * only the job's role may publish to; the platform image its platform steps run; the job's chart,
 * applied after the job's Pod Identity association (pods get credentials only if it exists when
 * they are admitted) and the team's namespace; and a missed-run alarm. Each job builds its own
 * identity and chart in its constructor with these pieces, in the order its resources must keep.
 */
export abstract class ScheduledModelJob extends Construct {
  /** The role of the job's service account. */
  public abstract readonly role: iam.Role;
  /** Name of the job's CronJob and service account, `<model>-<suffix>`. */
  protected readonly jobName: string;
  /** The model's team, whose namespace the job runs in. */
  protected readonly team: string;
  /** The model's own namespace of the job's metrics. */
  protected readonly metricNamespace: string;
  private readonly jobProps: ScheduledModelJobProps;
  private readonly jobKind: ScheduledJobKindProps;

  protected constructor(scope: Construct, id: string, props: ScheduledModelJobProps, kind: ScheduledJobKindProps) {
    super(scope, id);
    this.jobProps = props;
    this.jobKind = kind;
    this.jobName = `${props.model}-${kind.suffix}`;
    this.team = props.namespace.team;
    // The model's own namespace: IAM can confine publishing to a namespace but not to a dimension.
    this.metricNamespace = jobMetricNamespace(kind.kind, props.environment, props.model);
  }

  /** Dimensions of the job's metrics: the environment and the model. */
  protected get metricDimensions(): Record<string, string> {
    return { Environment: this.jobProps.environment, Model: this.jobProps.model };
  }

  /** The platform image (images/mlflow); the same folder gives the same asset as the MLflow stack's, built and pushed once. */
  protected platformImage(): string {
    return new ecrAssets.DockerImageAsset(this, 'PlatformImage', {
      directory: MLFLOW_IMAGE_DIRECTORY,
      platform: ecrAssets.Platform.LINUX_AMD64,
    }).imageUri;
  }

  /** A chart of its own for the job's Kubernetes objects. */
  protected jobChart(): cdk8s.Chart {
    return new cdk8s.Chart(new cdk8s.App(), this.jobName, { disableResourceNameHashes: true });
  }

  /** What every job chart is given: the job's name, namespace and labels, its runs, the platform image and its metrics. */
  protected chartProps(platformImage: string): ScheduledJobProps {
    const props = this.jobProps;
    return {
      name: this.jobName,
      namespace: this.team,
      labels: {
        'app.kubernetes.io/name': this.jobName,
        'app.kubernetes.io/part-of': this.team,
        'app.kubernetes.io/component': this.jobKind.component,
        [MODEL_LABEL]: props.model,
      },
      schedule: props.schedule,
      timeZone: props.timeZone,
      startingDeadlineMinutes: BATCH_STARTING_DEADLINE_MINUTES,
      timeoutMinutes: props.timeoutMinutes,
      retries: props.retries,
      platformImage,
      region: Stack.of(this).region,
      metricNamespace: this.metricNamespace,
      metricDimensions: this.metricDimensions,
      resources: props.resources,
      workVolumeGiB: props.workVolumeGiB,
    };
  }

  /** Applies the job's chart after the job's identity, the team's namespace and, when given, the GPU pools. */
  protected applyChart(chart: cdk8s.Chart, identity: IDependable, gpuNodePools?: GpuNodePools): void {
    const manifest = new PlatformManifest(this, 'Chart', { cluster: this.jobProps.cluster, chart });
    // Pods get Pod Identity credentials only if the association exists when they are admitted.
    manifest.node.addDependency(identity, this.jobProps.namespace.manifest);
    if (gpuNodePools) {
      manifest.node.addDependency(gpuNodePools);
    }
  }

  /** The alarm, `MissedRunAlarm`, that fires when no run has published `Succeeded` within `alarmWindowHours`. */
  protected missedRunAlarm(alarmName: string, alarmDescription: string): ScheduledJobAlarm {
    return new ScheduledJobAlarm(this, 'MissedRunAlarm', {
      alarmName,
      alarmDescription,
      metricNamespace: this.metricNamespace,
      metricName: JOB_SUCCEEDED_METRIC,
      dimensions: this.metricDimensions,
      windowHours: this.jobProps.alarmWindowHours,
      topic: this.jobProps.alarmTopic,
    });
  }
}
