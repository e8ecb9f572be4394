import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { k8s } from 'cdk8s-plus-27';
import { DRIFT_REPORT_CONTAINER } from '../../../charts/lib/drift-report-cron-job';
import { DRIFT_REPORT_DOCKERFILE, DRIFT_REPORT_IMAGE_CONTEXT, DriftReport, DriftReportProps } from '../../../lib/constructs/drift-report';
import { MLFLOW_IMAGE_DIRECTORY } from '../../../lib/constructs/mlflow-server';
import { appliedManifests } from '../../helpers/applied-manifests';
import { findObject, KubeObject } from '../../helpers/kube-objects';
import { validateKubernetesObjects } from '../../helpers/kubernetes-schema';
import { expectOwnMetricNamespaces, mlflowJobStack, Resources, roleStatements, teamNamespace } from '../../helpers/scheduled-job-fixture';

/** The namespace the fixture's job publishes to, as docs/drift.md names it. */
const NAMESPACE = 'MLOpsPlatform/Drift/mlops-prod/fraud-scorer';

const SETTINGS: Omit<DriftReportProps, 'cluster' | 'namespace' | 'mlflowAccounts' | 'alarmTopic'> = {
  model: 'fraud-scorer',
  schedule: '0 7 * * *',
  timeZone: 'UTC',
  reference: 's3://fraud-data/training/2026-11/',
  current: 's3://fraud-scoring/daily/',
  format: 'csv',
  threshold: 0.3,
  timeoutMinutes: 30,
  retries: 1,
  resources: { cpuRequestMillicores: 500, cpuLimitMillicores: 1000, memoryRequestMiB: 2048, memoryLimitMiB: 2048 },
  workVolumeGiB: 10,
  alarmWindowHours: 26,
  alarmName: 'mlops-prod-fraud-scorer-drift',
  runAlarmName: 'mlops-prod-fraud-scorer-drift-run',
  environment: 'mlops-prod',
};

function build(settings: typeof SETTINGS = SETTINGS) {
  const { stack, cluster, namespace, accounts: mlflowAccounts, topic } = mlflowJobStack();
  const drift = new DriftReport(stack, 'Drift', { ...settings, cluster, namespace, mlflowAccounts, alarmTopic: topic });
  const json = Template.fromStack(stack).toJSON() as { Resources: Resources };
  const idOf = (construct: { node: { defaultChild?: unknown } }) => Stack.of(drift).getLogicalId(construct.node.defaultChild as CfnElement);
  // The statements of the policies of the job's role.
  const statements = () => roleStatements(json.Resources, idOf(drift.role));
  return { json, drift, topic, idOf, mlflowAccounts, stack, statements };
}

const { json, drift, topic, idOf, mlflowAccounts, stack, statements } = build();
const resources = Object.entries(json.Resources);
const ofType = (type: string) => resources.filter(([, resource]) => resource.Type === type);
const roleId = idOf(drift.role);
const s3Arn = (path: string) => `arn:aws:s3:::${path}`;

describe('DriftReport', () => {
  test("binds the job's service account, <model>-drift in the team's namespace, to its own role", () => {
    const associations = ofType('AWS::EKS::PodIdentityAssociation').map(([, association]) => association.Properties);
    expect(associations).toContainEqual(
      expect.objectContaining({ Namespace: 'fraud', ServiceAccount: 'fraud-scorer-drift', RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] } }),
    );
  });

  test("lets the role read the team's MLflow login, list and read the two folders only, and publish to its model's drift namespace only", () => {
    expect(statements()).toEqual([
      { Effect: 'Allow', Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Resource: stack.resolve(mlflowAccounts.secretOf('fraud').secretArn) },
      expect.objectContaining({ Effect: 'Allow', Action: 'kms:Decrypt' }),
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: s3Arn('fraud-data'), Condition: { StringLike: { 's3:prefix': ['training/2026-11/*'] } } },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: [s3Arn('fraud-data/training/2026-11/*'), s3Arn('fraud-scoring/daily/*')] },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: s3Arn('fraud-scoring'), Condition: { StringLike: { 's3:prefix': ['daily/*'] } } },
      { Effect: 'Allow', Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': NAMESPACE } } },
    ]);
  });

  test("reads a registered model's run artifact through MLflow, so the role may list and read the current folder only", () => {
    const artifact = build({ ...SETTINGS, reference: { registeredModel: 'fraud-scorer', alias: 'champion', artifactPath: 'reference/train.parquet' } });
    expect(artifact.statements()).toEqual([
      { Effect: 'Allow', Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Resource: artifact.stack.resolve(artifact.mlflowAccounts.secretOf('fraud').secretArn) },
      expect.objectContaining({ Effect: 'Allow', Action: 'kms:Decrypt' }),
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: s3Arn('fraud-scoring'), Condition: { StringLike: { 's3:prefix': ['daily/*'] } } },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: s3Arn('fraud-scoring/daily/*') },
      { Effect: 'Allow', Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': NAMESPACE } } },
    ]);
    const [alarm] = Object.values(artifact.json.Resources).filter((resource) => resource.Type === 'AWS::CloudWatch::Alarm' && resource.Properties.MetricName === 'DriftShare');
    expect(alarm.Properties.AlarmDescription).toContain('(s3://fraud-scoring/daily/ against reference/train.parquet of the run of fraud-scorer@champion)');
  });

  test('runs the credentials step from the MLflow image and the report from the drift report image, built from images/ with its own Dockerfile, for amd64', () => {
    // An Fn::Sub (the asset's image URI) shows as its text.
    const subs = appliedManifests(json, (intrinsic) => (intrinsic as { 'Fn::Sub'?: string })['Fn::Sub'] ?? 'cfn-token');
    const cronJob = findObject<k8s.CronJobSpec>(
      subs.map(({ object }) => object as KubeObject).filter((object) => object.metadata.name === 'fraud-scorer-drift'),
      'CronJob',
    );
    const pod = cronJob.spec.jobTemplate.spec?.template.spec as k8s.PodSpec;
    const assembly = App.of(stack)!.synth();
    const assets = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8'));
    const images = assets.dockerImages as Record<string, { source: { directory: string; dockerFile?: string; platform?: string } }>;
    const sourceOf = (image: string | undefined) => {
      const { source } = images[image!.split(':').pop()!];
      return [path.resolve(assembly.directory, source.directory), source.dockerFile, source.platform];
    };
    expect(pod.initContainers?.map((container) => sourceOf(container.image))).toEqual([[MLFLOW_IMAGE_DIRECTORY, undefined, 'linux/amd64']]);
    const [report] = pod.containers;
    expect(report.name).toBe(DRIFT_REPORT_CONTAINER);
    expect(sourceOf(report.image)).toEqual([DRIFT_REPORT_IMAGE_CONTEXT, DRIFT_REPORT_DOCKERFILE, 'linux/amd64']);
  });

  test('applies a CronJob Kubernetes accepts in the team namespace after the Pod Identity association and the namespace', () => {
    const manifests = appliedManifests(json).filter(({ object }) => (object as KubeObject).metadata.name === 'fraud-scorer-drift');
    const objects = manifests.map(({ object }) => object as KubeObject);
    expect(objects.map((object) => [object.kind, object.metadata.namespace])).toEqual([
      ['ServiceAccount', 'fraud'],
      ['CronJob', 'fraud'],
    ]);
    const [[associationId]] = ofType('AWS::EKS::PodIdentityAssociation').filter(([, association]) => association.Properties.ServiceAccount === 'fraud-scorer-drift');
    expect(json.Resources[manifests[0].logicalId].DependsOn).toEqual(expect.arrayContaining([associationId, roleId]));
    expect(() => validateKubernetesObjects(objects)).not.toThrow();
  });

  test("alarms the topic, and tells it when clear, while the latest run's DriftShare is above the threshold, keeping the verdict between daily runs", () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties).filter((alarm) => alarm.MetricName === 'DriftShare');
    expect(alarms).toEqual([
      expect.objectContaining({
        AlarmName: 'mlops-prod-fraud-scorer-drift',
        Namespace: NAMESPACE,
        Dimensions: [
          { Name: 'Environment', Value: 'mlops-prod' },
          { Name: 'Model', Value: 'fraud-scorer' },
        ],
        Statistic: 'Maximum',
        Period: 3600,
        Threshold: 0.3,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'ignore',
        AlarmActions: [{ Ref: idOf(topic) }],
        OKActions: [{ Ref: idOf(topic) }],
      }),
    ]);
  });

  test('alarms the topic when no run has completed for the whole window, so a stopped job cannot leave the drift alarm quiet', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties).filter((alarm) => alarm.MetricName === 'Succeeded');
    expect(alarms).toEqual([
      expect.objectContaining({
        AlarmName: 'mlops-prod-fraud-scorer-drift-run',
        Namespace: NAMESPACE,
        ComparisonOperator: 'LessThanThreshold',
        EvaluationPeriods: 26,
        TreatMissingData: 'breaching',
      }),
    ]);
  });

  test("publishes to a namespace of its model's own, which both its alarms watch and its report step is told, so another team's job cannot silence them", () => {
    const fixture = mlflowJobStack();
    const { stack, cluster, accounts: mlflowAccounts, topic } = fixture;
    const jobs = [
      { model: 'fraud-scorer', job: new DriftReport(stack, 'Drift', { ...SETTINGS, cluster, namespace: fixture.namespace, mlflowAccounts, alarmTopic: topic }) },
      {
        model: 'risk-scorer',
        job: new DriftReport(stack, 'RiskDrift', {
          ...SETTINGS,
          model: 'risk-scorer',
          alarmName: 'mlops-prod-risk-scorer-drift',
          runAlarmName: 'mlops-prod-risk-scorer-drift-run',
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
        alarmNames: [`mlops-prod-${model}-drift`, `mlops-prod-${model}-drift-run`],
        cronJob: `${model}-drift`,
      })),
      'DRIFT_METRIC_NAMESPACE',
      [NAMESPACE, 'MLOpsPlatform/Drift/mlops-prod/risk-scorer'],
    );
  });
});
