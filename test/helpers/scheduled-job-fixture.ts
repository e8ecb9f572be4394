import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { k8s } from 'cdk8s-plus-27';
import { PlatformCluster } from '../../lib/constructs/platform-cluster';
import { TeamNamespace } from '../../lib/constructs/team-namespace';
import { appliedManifests } from './applied-manifests';
import { clusterStack } from './cluster-fixture';
import { envOf, findObject, KubeObject } from './kube-objects';
import { mlflowAccountsStack, TEST_AWS_API_CIDRS } from './mlflow-fixture';

/** A resource of a synthesized template, as the job tests read it. */
export type Resource = { Type: string; DependsOn?: string[]; Properties: Record<string, unknown> };

/** A synthesized template's resources. */
export type Resources = Record<string, Resource>;

/** An IAM policy statement, as synthesized. */
export type Statement = { Action: string | string[]; Resource: unknown; Condition?: Record<string, unknown>; Effect: string };

/** What a scheduled job construct is built on: a cluster, its team's namespace (`Team`) and an alarm topic (`Alarms`). */
export interface ScheduledJobStack {
  readonly stack: Stack;
  readonly cluster: PlatformCluster;
  readonly namespace: TeamNamespace;
  readonly topic: sns.ITopic;
}

/** A team's namespace with the quota the job tests use. */
export function teamNamespace(stack: Stack, cluster: PlatformCluster, team: string, id = 'Team'): TeamNamespace {
  return new TeamNamespace(stack, id, { cluster: cluster.cluster, team, quota: { cpu: 8, memoryGiB: 16, pods: 20, gpus: 0 }, awsApiCidrs: TEST_AWS_API_CIDRS });
}

/** The stack of a job of team `fraud` that needs no MLflow login. */
export function scheduledJobStack(): ScheduledJobStack {
  const { stack, cluster } = clusterStack();
  const namespace = teamNamespace(stack, cluster, 'fraud');
  return { stack, cluster, namespace, topic: new sns.Topic(stack, 'Alarms') };
}

/** The stack of a job of team `fraud` that logs in to MLflow: the server and the accounts of the teams `fraud` and `risk`. */
export function mlflowJobStack() {
  const built = mlflowAccountsStack([
    { name: 'fraud', models: [{ registeredModel: 'fraud-scorer' }] },
    { name: 'risk', models: [] },
  ]);
  const namespace = teamNamespace(built.stack, built.cluster, 'fraud');
  return { ...built, namespace, topic: new sns.Topic(built.stack, 'Alarms') as sns.ITopic };
}

/** The statements of the policies attached to the role with logical ID `roleId`. */
export function roleStatements(resources: Resources, roleId: string): Statement[] {
  return Object.values(resources)
    .filter((resource) => resource.Type === 'AWS::IAM::Policy' && JSON.stringify(resource.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

/** Where a synthesized job's metrics go, each read from the template on its own. */
export interface JobMetricNamespaces {
  /** The namespaces the job's role may publish to. */
  readonly published: unknown[];
  /** The namespaces the job's alarms watch. */
  readonly watched: unknown[];
  /** The namespaces the job's containers are told. */
  readonly told: unknown[];
}

/** The metric namespaces of the job whose role is `roleId`, whose alarms are `alarmNames` and whose CronJob is `cronJob`, telling its containers in `variable`. */
export function jobMetricNamespaces(resources: Resources, job: { roleId: string; alarmNames: string[]; cronJob: string; variable: string }): JobMetricNamespaces {
  const published = roleStatements(resources, job.roleId)
    .filter((statement) => [statement.Action].flat().includes('cloudwatch:PutMetricData'))
    .map((statement) => (statement.Condition as { StringEquals: Record<string, unknown> }).StringEquals['cloudwatch:namespace']);
  const watched = Object.values(resources)
    .filter((resource) => resource.Type === 'AWS::CloudWatch::Alarm' && job.alarmNames.includes(resource.Properties.AlarmName as string))
    .map((alarm) => alarm.Properties.Namespace);
  const objects = appliedManifests({ Resources: resources }).map(({ object }) => object as KubeObject);
  const pod = findObject<k8s.CronJobSpec>(objects, 'CronJob', job.cronJob).spec.jobTemplate.spec?.template.spec as k8s.PodSpec;
  const told = [...(pod.initContainers ?? []), ...pod.containers].map((container) => envOf(container)[job.variable]).filter((value) => value !== undefined);
  return { published, watched, told };
}

/**
 * Checks that each of `jobs`, synthesized in `stack`, may publish to exactly one namespace, the
 * one all its alarms watch and its containers are told, and that these are `expected`, in order.
 */
export function expectOwnMetricNamespaces(stack: Stack, jobs: { roleId: string; alarmNames: string[]; cronJob: string }[], variable: string, expected: string[]): void {
  const resources = Template.fromStack(stack).toJSON().Resources as Resources;
  const found = jobs.map((job) => jobMetricNamespaces(resources, { ...job, variable }));
  expect(found).toEqual(
    expected.map((namespace, index) => ({ published: [namespace], watched: jobs[index].alarmNames.map(() => namespace), told: [namespace] })),
  );
}
