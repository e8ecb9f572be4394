import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { modelAlarmNamePrefix, modelBatchAlarmName, modelDriftAlarmName, modelDriftRunAlarmName, modelTrainingAlarmName } from '../config/alarm-names';
import { batchResources, scheduleAlarmWindowHours } from '../config/batch-inference';
import { versionWeights } from '../config/capacity';
import { driftReference, modelHostname, modelWorkers } from '../config/derived';
import { ModelSettings } from '../config/schema';
import { ArtifactBucket, modelPredictionsPrefix } from '../constructs/artifact-bucket';
import { BatchInference } from '../constructs/batch-inference';
import { DriftReport } from '../constructs/drift-report';
import { GpuNodePools } from '../constructs/gpu-node-pools';
import { ImageRepositories } from '../constructs/image-repositories';
import { MlflowTeamAccounts } from '../constructs/mlflow-team-accounts';
import { ModelService } from '../constructs/model-service';
import { ModelTraining } from '../constructs/model-training';
import { PlatformCluster } from '../constructs/platform-cluster';
import { PlatformLoadBalancer } from '../constructs/platform-load-balancer';
import { loadBalancerSubnetCidrs } from '../constructs/platform-vpc';
import { TeamNamespace } from '../constructs/team-namespace';
import { PlatformStack, PlatformStackProps } from './platform-stack';

/** Properties of a {@link ModelStack}. */
export interface ModelStackProps extends PlatformStackProps {
  /** The model, as config gives it. */
  readonly model: ModelSettings;
  /** Namespace of the model's team, from the serving stack. */
  readonly namespace: TeamNamespace;
  /** GPU node pools, from the serving stack. */
  readonly gpuNodePools: GpuNodePools;
  /** First of the block of 10 listener rule priorities the model's rules take. */
  readonly listenerPriority: number;
  /** VPC from the network stack. */
  readonly vpc: ec2.IVpc;
  /** Cluster from the cluster stack. */
  readonly cluster: PlatformCluster;
  /** Shared load balancer from the ingress stack. */
  readonly loadBalancer: PlatformLoadBalancer;
  /** Topic the model's alarms notify, from the ingress stack. */
  readonly alarmTopic: sns.ITopic;
  /** Repositories holding each model's serving image, from the data stack. */
  readonly repositories: ImageRepositories;
  /** Bucket whose per-model prefixes the models may read and their batch jobs write, from the data stack. */
  readonly artifacts: ArtifactBucket;
  /** The teams' MLflow accounts, whose login the training job uses, from the MLflow stack. */
  readonly mlflowAccounts: MlflowTeamAccounts;
}

/**
 * One model in a stack of its own: its size is bounded by its versions (at most five), whatever
 * the number of models, and a failed deployment of one model rolls back that model alone.
 */
export class ModelStack extends PlatformStack {
  /** The model, as config gives it. */
  public readonly model: ModelSettings;
  /** The model's team, whose namespace it runs in. */
  public readonly team: string;
  /** The model's service: its target groups, chart, alarms and role. */
  public readonly service: ModelService;
  /** The model's batch inference job, when config gives it one. */
  public readonly batch?: BatchInference;
  /** The model's training job, when config gives it one. */
  public readonly training?: ModelTraining;
  /** The model's drift report job, when config gives it one. */
  public readonly drift?: DriftReport;

  constructor(scope: Construct, id: string, props: ModelStackProps) {
    super(scope, id, props);
    const { config, model, namespace } = props;
    this.model = model;
    this.team = namespace.team;

    this.service = new ModelService(this, 'Model', {
      cluster: props.cluster,
      namespace,
      gpuNodePools: props.gpuNodePools,
      readPolicy: props.artifacts.modelReadPolicies[model.name],
      vpc: props.vpc,
      loadBalancer: props.loadBalancer,
      hostname: modelHostname(config, model),
      listenerPriority: props.listenerPriority,
      weights: versionWeights(model),
      stickiness: model.traffic.stickinessSeconds ? Duration.seconds(model.traffic.stickinessSeconds) : undefined,
      versionHeader: model.traffic.versionHeader,
      slo: model.slo,
      alarmTopic: props.alarmTopic,
      alarmNamePrefix: modelAlarmNamePrefix(config, model.name),
      serving: {
        team: namespace.team,
        model: model.name,
        registeredModel: model.registeredModel,
        versions: model.versions.map((version) => ({
          name: version.name,
          alias: version.alias,
          version: version.version,
          image: props.repositories.modelImageUri(model.name, version.imageTag),
          imageTag: version.imageTag,
          resources: version.resources,
          workers: modelWorkers(version),
          gpu: version.gpu,
          ...version.autoscaling,
          podRequestsPerSecond: version.podRequestsPerSecond,
          startupSeconds: version.startupSeconds,
        })),
        shadow: model.traffic.shadow,
        fallback: model.traffic.fallback,
        allowedNamespaces: model.exposure.allowedNamespaces,
        loadBalancerSubnetCidrs: loadBalancerSubnetCidrs(props.vpc, config.ingress.scheme),
      },
    });

    if (model.batch) {
      const { resources, ...batch } = model.batch;
      const [primary] = model.versions;
      this.batch = new BatchInference(this, 'Batch', {
        ...batch,
        cluster: props.cluster,
        namespace,
        gpuNodePools: props.gpuNodePools,
        model: model.name,
        modelImage: props.repositories.modelImageUri(model.name, primary.imageTag),
        bucketName: props.artifacts.bucket.bucketName,
        predictionsPrefix: modelPredictionsPrefix(model.name),
        predictionsPolicy: props.artifacts.modelPredictionsPolicies[model.name],
        resources: batchResources(primary, resources),
        gpu: primary.gpu,
        alarmWindowHours: scheduleAlarmWindowHours(batch.schedule, batch.timeoutMinutes),
        alarmTopic: props.alarmTopic,
        alarmName: modelBatchAlarmName(modelAlarmNamePrefix(config, model.name)),
        environment: `${config.namePrefix}-${config.name}`,
      });
    }

    if (model.training) {
      const { image, ...training } = model.training;
      this.training = new ModelTraining(this, 'Training', {
        ...training,
        cluster: props.cluster,
        namespace,
        mlflowAccounts: props.mlflowAccounts,
        gpuNodePools: props.gpuNodePools,
        model: model.name,
        registeredModel: model.registeredModel,
        trainingImage: props.repositories.modelImageUri(model.name, image),
        alarmWindowHours: scheduleAlarmWindowHours(training.schedule, training.timeoutMinutes),
        alarmTopic: props.alarmTopic,
        alarmName: modelTrainingAlarmName(modelAlarmNamePrefix(config, model.name)),
        environment: `${config.namePrefix}-${config.name}`,
      });
    }

    if (model.drift) {
      const alarmPrefix = modelAlarmNamePrefix(config, model.name);
      this.drift = new DriftReport(this, 'Drift', {
        ...model.drift,
        reference: driftReference(model.registeredModel, model.drift.reference),
        cluster: props.cluster,
        namespace,
        mlflowAccounts: props.mlflowAccounts,
        model: model.name,
        alarmWindowHours: scheduleAlarmWindowHours(model.drift.schedule, model.drift.timeoutMinutes),
        alarmTopic: props.alarmTopic,
        alarmName: modelDriftAlarmName(alarmPrefix),
        runAlarmName: modelDriftRunAlarmName(alarmPrefix),
        environment: `${config.namePrefix}-${config.name}`,
      });
    }
  }
}
