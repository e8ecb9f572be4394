import { CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { k8s } from 'cdk8s-plus-27';
import { ModelTraining, ModelTrainingProps } from '../../../lib/constructs/model-training';
import { appliedManifests } from '../../helpers/applied-manifests';
import { envOf, findObject, KubeObject } from '../../helpers/kube-objects';
import { validateKubernetesObjects } from '../../helpers/kubernetes-schema';
import { expectOwnMetricNamespaces, mlflowJobStack, Resources, roleStatements as statementsOfRole, Statement, teamNamespace } from '../../helpers/scheduled-job-fixture';

const INPUT_KEY = 'arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-4000-8000-000000000000';

/** The namespace the fixture's job publishes to, as docs/training.md names it. */
const NAMESPACE = 'MLOpsPlatform/Training/mlops-prod/fraud-scorer';

const SETTINGS: Omit<ModelTrainingProps, 'cluster' | 'namespace' | 'mlflowAccounts' | 'alarmTopic'> = {
  model: 'fraud-scorer',
  registeredModel: 'fraud-scorer',
  trainingImage: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlops/prod/models/fraud-scorer:train-2026.11.1',
  command: ['python', '/app/train.py'],
  schedule: '0 2 * * *',
  timeZone: 'UTC',
  experiment: 'fraud/fraud-scorer',
  metric: 'val_auc',
  direction: 'max',
  minImprovement: 0.01,
  timeoutMinutes: 120,
  retries: 2,
  resources: { cpuRequestMillicores: 1000, cpuLimitMillicores: 2000, memoryRequestMiB: 4096, memoryLimitMiB: 4096 },
  workVolumeGiB: 20,
  alarmWindowHours: 29,
  alarmName: 'mlops-prod-fraud-scorer-training',
  environment: 'mlops-prod',
};

function build(overrides: Partial<ModelTrainingProps> = {}) {
  const { stack, cluster, namespace, accounts: mlflowAccounts, topic } = mlflowJobStack();
  const training = new ModelTraining(stack, 'Training', { ...SETTINGS, ...overrides, cluster, namespace, mlflowAccounts, alarmTopic: topic });
  const json = Template.fromStack(stack).toJSON() as { Resources: Resources };
  const idOf = (construct: { node: { defaultChild?: unknown } }) => Stack.of(training).getLogicalId(construct.node.defaultChild as CfnElement);
  return { json, training, topic, idOf, mlflowAccounts, stack };
}

/** The statements of the policies of a built training's role. */
function roleStatements(built: ReturnType<typeof build>): Statement[] {
  return statementsOfRole(built.json.Resources, built.idOf(built.training.role));
}

/** The training pod's template in a built training's applied manifest, tokens as `cfn-token`. */
function podTemplate(built: ReturnType<typeof build>): k8s.PodTemplateSpec {
  const objects = appliedManifests(built.json, () => 'cfn-token').map(({ object }) => object as KubeObject);
  return findObject<k8s.CronJobSpec>(objects, 'CronJob', 'fraud-scorer-training').spec.jobTemplate.spec?.template as k8s.PodTemplateSpec;
}

const built = build();
const { json, training, topic, idOf, mlflowAccounts, stack } = built;
const resources = Object.entries(json.Resources);
const ofType = (type: string) => resources.filter(([, resource]) => resource.Type === type);
const roleId = idOf(training.role);
const statements = (): Statement[] => roleStatements(built);
const trainingManifest = () => {
  const manifests = appliedManifests(json).filter(({ object }) => (object as KubeObject).metadata.name === 'fraud-scorer-training');
  return { logicalId: manifests[0].logicalId, objects: manifests.map(({ object }) => object as KubeObject) };
};

describe('ModelTraining', () => {
  test("binds the job's service account, <model>-training in the team's namespace, to its own role", () => {
    const associations = ofType('AWS::EKS::PodIdentityAssociation').map(([, association]) => association.Properties);
    expect(associations).toContainEqual(
      expect.objectContaining({ Namespace: 'fraud', ServiceAccount: 'fraud-scorer-training', RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] } }),
    );
  });

  test("without an input, lets the role read the team's MLflow login and no other, and publish to its model's training namespace only", () => {
    const fraudSecret = mlflowAccounts.secretOf('fraud');
    expect(statements()).toEqual([
      {
        Effect: 'Allow',
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        Resource: stack.resolve(fraudSecret.secretArn),
      },
      expect.objectContaining({ Effect: 'Allow', Action: 'kms:Decrypt' }),
      { Effect: 'Allow', Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': NAMESPACE } } },
    ]);
  });

  test('with an input, lets the role also list and read that folder and nothing else of its bucket, and decrypt with its key through S3', () => {
    const withInput = build({ input: 's3://fraud-data/training/daily/', inputKmsKeyArn: INPUT_KEY });
    const [secretRead, secretKey, ...rest] = roleStatements(withInput);
    expect([secretRead.Action, secretKey.Condition]).toEqual([
      ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
    ]);
    expect(rest).toEqual([
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::fraud-data', Condition: { StringLike: { 's3:prefix': ['training/daily/*'] } } },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::fraud-data/training/daily/*' },
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: INPUT_KEY, Condition: { StringLike: { 'kms:ViaService': 's3.*.amazonaws.com' } } },
      { Effect: 'Allow', Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': NAMESPACE } } },
    ]);
  });

  test("with an input, hands the team's training step the folder and the pod's credentials; without, neither", () => {
    const withInput = podTemplate(build({ input: 's3://fraud-data/training/daily/' }));
    const train = (template: k8s.PodTemplateSpec) => (template.spec?.initContainers ?? [])[1];
    expect(envOf(train(withInput)).TRAINING_INPUT).toBe('s3://fraud-data/training/daily/');
    expect(withInput.metadata?.annotations).toEqual({ 'eks.amazonaws.com/skip-containers': 'promote' });
    const without = podTemplate(built);
    expect(envOf(train(without))).not.toHaveProperty('TRAINING_INPUT');
    expect(without.metadata?.annotations).toEqual({ 'eks.amazonaws.com/skip-containers': 'train,promote' });
  });

  test("hands the credentials step the team's secret ARN and the gate the team's own decisions experiment", () => {
    const subs = appliedManifests(json, () => 'cfn-token');
    const cronJob = findObject<k8s.CronJobSpec>(subs.map(({ object }) => object as KubeObject), 'CronJob', 'fraud-scorer-training');
    const pod = cronJob.spec.jobTemplate.spec?.template.spec as k8s.PodSpec;
    const [credentials, train, promote] = pod.initContainers ?? [];
    expect(envOf(credentials).MLFLOW_CREDENTIALS_SECRET_ARN).toBe('cfn-token');
    expect(train.image).toBe(SETTINGS.trainingImage);
    expect(envOf(promote)).toMatchObject({ PROMOTION_EXPERIMENT: 'fraud/promotions', PROMOTION_MIN_IMPROVEMENT: '0.01', PROMOTION_DIRECTION: 'max' });
    expect(envOf(pod.containers[0])).toMatchObject({ BATCH_METRIC_NAMESPACE: NAMESPACE, BATCH_METRIC_DIMENSIONS: 'Environment=mlops-prod,Model=fraud-scorer' });
  });

  test('applies the CronJob in the team namespace after the Pod Identity association, the role and its policies, and the namespace', () => {
    const { logicalId, objects } = trainingManifest();
    expect(objects.map((object) => [object.kind, object.metadata.namespace])).toEqual([
      ['ServiceAccount', 'fraud'],
      ['CronJob', 'fraud'],
    ]);
    const [[associationId]] = ofType('AWS::EKS::PodIdentityAssociation').filter(([, association]) => association.Properties.ServiceAccount === 'fraud-scorer-training');
    const policies = ofType('AWS::IAM::Policy')
      .filter(([, policy]) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .map(([id]) => id);
    const namespaceManifests = ofType('Custom::AWSCDK-EKS-KubernetesResource').filter(([id]) => id.startsWith('TeamChart')).map(([id]) => id);
    expect(namespaceManifests).toHaveLength(1);
    expect(json.Resources[logicalId].DependsOn).toEqual(expect.arrayContaining([associationId, roleId, ...policies, ...namespaceManifests]));
    expect(() => validateKubernetesObjects(objects)).not.toThrow();
  });

  test('alarms the topic, and tells it when clear, once no run has completed for the whole window, a missing hour counting as one without', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm')
      .map(([, alarm]) => alarm.Properties)
      .filter((alarm) => alarm.Namespace === NAMESPACE);
    expect(alarms).toEqual([
      expect.objectContaining({
        AlarmName: 'mlops-prod-fraud-scorer-training',
        MetricName: 'Succeeded',
        Dimensions: [
          { Name: 'Environment', Value: 'mlops-prod' },
          { Name: 'Model', Value: 'fraud-scorer' },
        ],
        Statistic: 'Sum',
        Period: 3600,
        EvaluationPeriods: 29,
        DatapointsToAlarm: 29,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
        AlarmActions: [{ Ref: idOf(topic) }],
        OKActions: [{ Ref: idOf(topic) }],
      }),
    ]);
  });

  test("publishes to a namespace of its model's own, which its alarm watches and its report step is told, so another team's training code cannot silence that alarm", () => {
    const fixture = mlflowJobStack();
    const { stack, cluster, accounts: mlflowAccounts, topic } = fixture;
    const jobs = [
      { model: 'fraud-scorer', job: new ModelTraining(stack, 'Training', { ...SETTINGS, cluster, namespace: fixture.namespace, mlflowAccounts, alarmTopic: topic }) },
      {
        model: 'risk-scorer',
        job: new ModelTraining(stack, 'RiskTraining', {
          ...SETTINGS,
          model: 'risk-scorer',
          registeredModel: 'risk-scorer',
          experiment: 'risk/risk-scorer',
          alarmName: 'mlops-prod-risk-scorer-training',
          input: 's3://risk-data/training/daily/',
          cluster,
          namespace: teamNamespace(stack, cluster, 'risk', 'RiskTeam'),
          mlflowAccounts,
          alarmTopic: topic,
        }),
      },
    ];
    expectOwnMetricNamespaces(
      stack,
      jobs.map(({ model, job }) => ({
        roleId: Stack.of(job).getLogicalId(job.role.node.defaultChild as CfnElement),
        alarmNames: [`mlops-prod-${model}-training`],
        cronJob: `${model}-training`,
      })),
      'BATCH_METRIC_NAMESPACE',
      [NAMESPACE, 'MLOpsPlatform/Training/mlops-prod/risk-scorer'],
    );
  });
});
