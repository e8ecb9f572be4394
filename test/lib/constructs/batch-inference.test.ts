import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { k8s } from 'cdk8s-plus-27';
import { BatchInference, BatchInferenceProps } from '../../../lib/constructs/batch-inference';
import { MLFLOW_IMAGE_DIRECTORY } from '../../../lib/constructs/mlflow-server';
import { appliedManifests } from '../../helpers/applied-manifests';
import { findObject, KubeObject } from '../../helpers/kube-objects';
import { validateKubernetesObjects } from '../../helpers/kubernetes-schema';
import { expectOwnMetricNamespaces, Resources, roleStatements, ScheduledJobStack, scheduledJobStack, teamNamespace } from '../../helpers/scheduled-job-fixture';

/** The namespace the fixture's job publishes to, as docs/batch-inference.md names it. */
const NAMESPACE = 'MLOpsPlatform/Batch/mlops-prod/fraud-scorer';

const SETTINGS: Omit<BatchInferenceProps, 'cluster' | 'namespace' | 'predictionsPolicy' | 'alarmTopic'> = {
  model: 'fraud-scorer',
  modelImage: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlops/prod/models/fraud-scorer:2026.11.1',
  bucketName: 'mlops-prod-artifacts',
  predictionsPrefix: 'predictions/fraud-scorer/',
  schedule: '30 5 * * *',
  timeZone: 'Europe/Dublin',
  input: 's3://fraud-data/scoring/daily/',
  format: 'parquet',
  timeoutMinutes: 60,
  retries: 2,
  resources: { cpuRequestMillicores: 1000, cpuLimitMillicores: 1000, memoryRequestMiB: 2048, memoryLimitMiB: 2048 },
  workVolumeGiB: 10,
  alarmWindowHours: 28,
  alarmName: 'mlops-prod-fraud-scorer-batch',
  environment: 'mlops-prod',
};

/** A batch job, `id`, in a fixture's stack, with a predictions policy of its own. */
function addBatch({ stack, cluster, namespace, topic }: ScheduledJobStack, id: string, overrides: Partial<BatchInferenceProps> = {}) {
  const model = overrides.model ?? SETTINGS.model;
  const predictionsPolicy = new iam.ManagedPolicy(stack, `${id}PredictionsPolicy`, {
    statements: [new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [`arn:aws:s3:::mlops-prod-artifacts/predictions/${model}/*`] })],
  });
  const batch = new BatchInference(stack, id, { ...SETTINGS, cluster, namespace, predictionsPolicy, alarmTopic: topic, ...overrides });
  return { batch, predictionsPolicy };
}

function build(overrides: Partial<BatchInferenceProps> = {}) {
  const fixture = scheduledJobStack();
  const { stack, topic } = fixture;
  const { batch, predictionsPolicy } = addBatch(fixture, 'Batch', overrides);
  const json = Template.fromStack(stack).toJSON() as { Resources: Resources };
  const idOf = (construct: { node: { defaultChild?: unknown } }) => Stack.of(batch).getLogicalId(construct.node.defaultChild as CfnElement);
  return { json, stack, batch, topic, predictionsPolicy, idOf };
}

const { json, batch, topic, predictionsPolicy, idOf, stack } = build();
const resources = Object.entries(json.Resources);
const ofType = (type: string) => resources.filter(([, resource]) => resource.Type === type);
const roleId = idOf(batch.role);
const statements = () => roleStatements(json.Resources, roleId);
const batchManifest = () => {
  const manifests = appliedManifests(json).filter(({ object }) => (object as KubeObject).metadata.name === 'fraud-scorer-batch');
  return { logicalId: manifests[0].logicalId, objects: manifests.map(({ object }) => object as KubeObject) };
};

describe('BatchInference', () => {
  test("binds the job's service account, <model>-batch in the team's namespace, to its own role", () => {
    const associations = ofType('AWS::EKS::PodIdentityAssociation').map(([, association]) => association.Properties);
    expect(associations).toContainEqual(expect.objectContaining({ Namespace: 'fraud', ServiceAccount: 'fraud-scorer-batch', RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] } }));
    expect(findObject(batchManifest().objects, 'ServiceAccount', 'fraud-scorer-batch').metadata.namespace).toBe('fraud');
  });

  test("lets the role list and read the team's input folder and nothing else of that bucket, and publish to its model's batch namespace only", () => {
    expect(statements()).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::fraud-data',
        Condition: { StringLike: { 's3:prefix': ['scoring/daily/*'] } },
      },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::fraud-data/scoring/daily/*' },
      { Effect: 'Allow', Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': NAMESPACE } } },
    ]);
  });

  test("writes through the given predictions policy alone, which the role holds as it is", () => {
    const role = json.Resources[roleId];
    expect(role.Properties.ManagedPolicyArns).toEqual([{ Ref: idOf(predictionsPolicy) }]);
    const actions = statements().flatMap((statement) => [statement.Action].flat());
    expect(actions.filter((action) => /^s3:(Put|Delete)/.test(action))).toEqual([]);
  });

  test('may decrypt the input with its KMS key through S3 only, when the input has one', () => {
    const key = 'arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-4000-8000-000000000000';
    const { json: withKey, batch: keyed, idOf: keyedId } = build({ inputKmsKeyArn: key });
    const role = keyedId(keyed.role);
    const kms = roleStatements(withKey.Resources, role).filter((statement) => [statement.Action].flat().some((action) => action.startsWith('kms:')));
    expect(kms).toEqual([{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: key, Condition: { StringLike: { 'kms:ViaService': 's3.*.amazonaws.com' } } }]);
    expect(statements().some((statement) => [statement.Action].flat().some((action) => action.startsWith('kms:')))).toBe(false);
  });

  test('applies a CronJob in the team namespace, after the Pod Identity association, the role and its policies, and the namespace', () => {
    const { logicalId, objects } = batchManifest();
    expect(objects.map((object) => [object.kind, object.metadata.namespace])).toEqual([
      ['ServiceAccount', 'fraud'],
      ['CronJob', 'fraud'],
    ]);
    const [[associationId]] = ofType('AWS::EKS::PodIdentityAssociation').filter(([, association]) => association.Properties.ServiceAccount === 'fraud-scorer-batch');
    const policies = ofType('AWS::IAM::Policy')
      .filter(([, policy]) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .map(([id]) => id);
    const namespaceManifests = ofType('Custom::AWSCDK-EKS-KubernetesResource').filter(([id]) => id.startsWith('TeamChart')).map(([id]) => id);
    expect(namespaceManifests).toHaveLength(1);
    expect(json.Resources[logicalId].DependsOn).toEqual(expect.arrayContaining([associationId, roleId, ...policies, ...namespaceManifests]));
    expect(() => validateKubernetesObjects(objects)).not.toThrow();
  });

  test("runs the fetch and upload steps from the platform image built from images/mlflow for amd64, and predict from the model's image", () => {
    // An Fn::Sub (the asset's image URI) shows as its text.
    const subs = appliedManifests(json, (intrinsic) => (intrinsic as { 'Fn::Sub'?: string })['Fn::Sub'] ?? 'cfn-token');
    const cronJob = findObject<k8s.CronJobSpec>(subs.map(({ object }) => object as KubeObject), 'CronJob');
    const pod = cronJob.spec.jobTemplate.spec?.template.spec as k8s.PodSpec;
    const [fetch, predict] = pod.initContainers ?? [];
    expect(predict.image).toBe(SETTINGS.modelImage);
    const assembly = App.of(stack)!.synth();
    const assets = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8'));
    const images = Object.entries(assets.dockerImages) as [string, { source: { directory: string; platform?: string } }][];
    expect(images.map(([, image]) => [path.resolve(assembly.directory, image.source.directory), image.source.platform])).toEqual([[MLFLOW_IMAGE_DIRECTORY, 'linux/amd64']]);
    const [[hash]] = images;
    for (const image of [fetch.image, pod.containers[0].image]) {
      expect(image).toBe(`${stack.account}.dkr.ecr.${stack.region}.\${AWS::URLSuffix}/cdk-hnb659fds-container-assets-${stack.account}-${stack.region}:${hash}`);
    }
  });

  test('alarms the topic, and tells it when clear, once no run has completed for the whole window, a missing hour counting as one without', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    expect(alarms).toEqual([
      expect.objectContaining({
        AlarmName: 'mlops-prod-fraud-scorer-batch',
        Namespace: NAMESPACE,
        MetricName: 'Succeeded',
        Dimensions: [
          { Name: 'Environment', Value: 'mlops-prod' },
          { Name: 'Model', Value: 'fraud-scorer' },
        ],
        Statistic: 'Sum',
        Period: 3600,
        EvaluationPeriods: 28,
        DatapointsToAlarm: 28,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
        AlarmActions: [{ Ref: idOf(topic) }],
        OKActions: [{ Ref: idOf(topic) }],
      }),
    ]);
  });

  test('tells the upload step the same metric namespace and dimensions the alarm watches', () => {
    const cronJob = findObject<k8s.CronJobSpec>(batchManifest().objects, 'CronJob');
    const upload = (cronJob.spec.jobTemplate.spec?.template.spec as k8s.PodSpec).containers[0];
    const env = Object.fromEntries((upload.env ?? []).map((variable) => [variable.name, variable.value]));
    expect(env).toMatchObject({
      BATCH_METRIC_NAMESPACE: NAMESPACE,
      BATCH_METRIC_DIMENSIONS: 'Environment=mlops-prod,Model=fraud-scorer',
      BATCH_OUTPUT: 's3://mlops-prod-artifacts/predictions/fraud-scorer/',
    });
  });

  test("publishes to a namespace of its model's own, which its alarm watches and its upload step is told, so another team's job cannot silence that alarm", () => {
    const fixture = scheduledJobStack();
    const risk = { ...fixture, namespace: teamNamespace(fixture.stack, fixture.cluster, 'risk', 'RiskTeam') };
    const jobs = [
      { model: 'fraud-scorer', job: addBatch(fixture, 'Batch').batch },
      { model: 'risk-scorer', job: addBatch(risk, 'RiskBatch', { model: 'risk-scorer', alarmName: 'mlops-prod-risk-scorer-batch' }).batch },
    ];
    expectOwnMetricNamespaces(
      fixture.stack,
      jobs.map(({ model, job }) => ({
        roleId: Stack.of(job).getLogicalId(job.role.node.defaultChild as CfnElement),
        alarmNames: [`mlops-prod-${model}-batch`],
        cronJob: `${model}-batch`,
      })),
      'BATCH_METRIC_NAMESPACE',
      [NAMESPACE, 'MLOpsPlatform/Batch/mlops-prod/risk-scorer'],
    );
  });
});
