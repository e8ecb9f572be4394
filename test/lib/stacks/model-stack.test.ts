import * as fs from 'node:fs';
import * as path from 'node:path';
import { k8s } from 'cdk8s-plus-27';
import { MODEL_ROUTER_IMAGE_DIRECTORY } from '../../../charts/lib/model-router';
import { DRIFT_REPORT_DOCKERFILE, DRIFT_REPORT_IMAGE_CONTEXT } from '../../../lib/constructs/drift-report';
import { MLFLOW_IMAGE_DIRECTORY } from '../../../lib/constructs/mlflow-server';
import { SCORING_PORT } from '../../../charts/model-serving-chart';
import { modelAlarmNamePrefix, modelBatchAlarmName, modelDriftAlarmName, modelDriftRunAlarmName, modelSloAlarmName, modelTrainingAlarmName, versionAlarmNames } from '../../../lib/config/alarm-names';
import { versionWeights } from '../../../lib/config/capacity';
import { modelHostname, modelNames } from '../../../lib/config/derived';
import { listenerRulePriorities, PRIORITIES_PER_MODEL } from '../../../lib/config/listener-priorities';
import { appliedManifests } from '../../helpers/applied-manifests';
import { ENVIRONMENTS } from '../../helpers/app';
import { committedConfig, committedModelStackIds, committedStageDirectory, committedStageFacts, committedTemplate, StageStackId } from '../../helpers/committed-assembly';
import { envOf, findObject, KubeObject, objectsOfKind } from '../../helpers/kube-objects';
import { loadBalancerSubnetCidrs } from '../../helpers/network-facts';

type StackOutputReference = { 'Fn::GetStackOutput': { StackName: string; OutputName: string } };

/** The ids of the committed environment's model stacks, `Model-<model>`, in stage order, as the shared assembly records them. */
const modelStackIds = committedModelStackIds;

describe.each(ENVIRONMENTS)('%s model stacks', (name) => {
  const config = committedConfig(name);
  const stage = committedStageFacts(name);
  const models = config.teams.flatMap((team) => team.models.map((model) => ({ team: team.name, ...model })));

  /**
   * The stack of the stage a Fn::GetStackOutput reads, the resource whose Ref that output holds, and
   * that resource's logical ID: what a model stack names in another stack.
   */
  const referencedResource = (reference: StackOutputReference): [string, { Type: string }] => {
    const { StackName, OutputName } = reference['Fn::GetStackOutput'];
    const stack = (Object.keys(stage.stacks) as StageStackId[]).find((candidate) => stage.stacks[candidate].stackName === StackName);
    expect([StackName, stack]).toEqual([StackName, expect.any(String)]);
    const json = committedTemplate(name, stack!).toJSON();
    const value = json.Outputs?.[OutputName]?.Value;
    expect([OutputName, value]).toEqual([OutputName, { Ref: expect.any(String) }]);
    return [value.Ref, json.Resources[value.Ref]];
  };
  const ingressOutput = (reference: unknown) => (reference as StackOutputReference)['Fn::GetStackOutput']?.StackName === `${name}-Ingress`;

  test('makes one stack per configured model, deployed after the Serving stack and before the Monitoring stack', () => {
    const ids = models.map((model) => `Model-${model.name}`);
    expect(modelStackIds(name)).toEqual(ids);
    expect(stage.children.filter((child) => child.startsWith('Model-'))).toEqual(ids);
    for (const id of ids) {
      expect(stage.children.indexOf(id)).toBeGreaterThan(stage.children.indexOf('Serving'));
      expect(stage.children.indexOf(id)).toBeLessThan(stage.children.indexOf('Monitoring'));
    }
  });

  for (const model of models) {
    describe(`Model-${model.name}`, () => {
      const id = `Model-${model.name}` as const;
      const compact = (text: string) => text.replace(/-/g, '');
      const template = committedTemplate(name, id);
      const json = template.toJSON();
      const resources = (type: string) => Object.entries(template.findResources(type));
      const targetGroupId = (version: string): string => {
        const ids = resources('AWS::ElasticLoadBalancingV2::TargetGroup')
          .map(([logicalId]) => logicalId)
          .filter((logicalId) => new RegExp(`^ModelRouting${compact(version)}TargetGroup[0-9A-F]{8}$`).test(logicalId));
        expect([version, ids.length]).toEqual([version, 1]);
        return ids[0];
      };
      const otherTargetGroups = (version: string) => model.versions.filter((other) => other.name !== version).map((other) => targetGroupId(other.name));

      // Each deploy-time value in the chart becomes `cfn-<n>`, the n-th intrinsic, so a test can tell what a field names.
      const intrinsics: unknown[] = [];
      const applied = appliedManifests(json, (intrinsic) => `cfn-${intrinsics.push(intrinsic) - 1}`).map((manifest) => manifest.object) as KubeObject[];
      const intrinsic = (text: unknown) => {
        const match = /^cfn-(\d+)$/.exec(String(text));
        return match ? intrinsics[Number(match[1])] : text;
      };
      const deployment = (deploymentName: string) => findObject<k8s.DeploymentSpec>(applied, 'Deployment', deploymentName).spec.template.spec as k8s.PodSpec;
      const router = Boolean(model.traffic.shadow || model.traffic.fallback);

      test("applies one chart, and one more each for a batch, a training and a drift job, whose objects are all in the model team's namespace", () => {
        expect(resources('Custom::AWSCDK-EKS-KubernetesResource')).toHaveLength(1 + (model.batch ? 1 : 0) + (model.training ? 1 : 0) + (model.drift ? 1 : 0));
        expect(applied.length).toBeGreaterThan(0);
        expect([...new Set(applied.map((object) => object.metadata.namespace))]).toEqual([model.team]);
      });

      test("pulls each version's image from the model's own repository at the configured tag", () => {
        for (const version of model.versions) {
          const [image] = deployment(`${model.name}-${version.name}`).containers.map((container) => container.image);
          const match = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.(cfn-\d+)\/(cfn-\d+):(.+)$/.exec(image ?? '');
          expect([version.name, match?.slice(1)]).toEqual([version.name, [stage.account, stage.region, expect.any(String), expect.any(String), version.imageTag]]);
          expect(intrinsic(match![3])).toEqual({ Ref: 'AWS::URLSuffix' });
          const [repositoryId, repository] = referencedResource(intrinsic(match![4]) as StackOutputReference);
          expect([repository.Type, repositoryId]).toEqual(['AWS::ECR::Repository', expect.stringMatching(new RegExp(`^RepositoriesModel${compact(model.name)}[0-9A-F]{8}$`))]);
        }
      });

      test('runs a router built from images/model-router for amd64 in this stack, where the model has a shadow or a fallback, the platform image for a batch, training or drift job, and the drift report image for a drift job', () => {
        const assets = JSON.parse(fs.readFileSync(path.join(committedStageDirectory(name), `${stage.stacks[id].artifactId}.assets.json`), 'utf8'));
        const images = Object.entries(assets.dockerImages) as [string, { source: { directory: string; dockerFile?: string; platform?: string } }][];
        expect(images.map(([, image]) => [path.resolve(image.source.directory), image.source.dockerFile, image.source.platform])).toEqual([
          ...(router ? [[MODEL_ROUTER_IMAGE_DIRECTORY, undefined, 'linux/amd64']] : []),
          ...(model.batch || model.training || model.drift ? [[MLFLOW_IMAGE_DIRECTORY, undefined, 'linux/amd64']] : []),
          ...(model.drift ? [[DRIFT_REPORT_IMAGE_CONTEXT, DRIFT_REPORT_DOCKERFILE, 'linux/amd64']] : []),
        ]);
        if (router) {
          const [image] = deployment(`${model.name}-router`).containers.map((container) => intrinsic(container.image));
          expect(JSON.stringify(image)).toMatch(new RegExp(`container-assets-${stage.account}-${stage.region}:${images[0][0]}"`));
        }
      });

      test("gives each version an IP target group, tagged with the cluster's name as Auto Mode requires, health-checked on /ping", () => {
        expect(resources('AWS::ElasticLoadBalancingV2::TargetGroup')).toHaveLength(model.versions.length);
        for (const version of model.versions) {
          const group = template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup')[targetGroupId(version.name)];
          expect(group.Properties).toMatchObject({ TargetType: 'ip', Protocol: 'HTTP', Port: SCORING_PORT, HealthCheckPath: '/ping' });
          const tag = group.Properties.Tags.find((candidate: { Key: string }) => candidate.Key === 'eks:eks-cluster-name');
          const [clusterId, cluster] = referencedResource(tag.Value);
          expect([clusterId, cluster.Type]).toEqual([expect.stringMatching(/^Cluster/), 'AWS::EKS::Cluster']);
        }
      });

      test("forwards the model's host on the shared listener to its versions with the configured weights, stickiness and version header, within the model's block of priorities", () => {
        const rules = resources('AWS::ElasticLoadBalancingV2::ListenerRule').map(([, rule]) => rule.Properties);
        const host = { Field: 'host-header', HostHeaderConfig: { Values: [modelHostname(config, model)] } };
        const weighted = rules.filter((rule) => rule.Actions[0].ForwardConfig);
        expect(weighted).toHaveLength(1);
        const weights = versionWeights(model);
        expect(weighted[0].Conditions).toEqual([host]);
        expect(weighted[0].Actions[0].ForwardConfig.TargetGroups).toEqual(
          model.versions.map((version) => ({ TargetGroupArn: { Ref: targetGroupId(version.name) }, Weight: weights[version.name] })),
        );
        const stickiness = weighted[0].Actions[0].ForwardConfig.TargetGroupStickinessConfig;
        expect(stickiness).toEqual(model.traffic.stickinessSeconds ? { Enabled: true, DurationSeconds: model.traffic.stickinessSeconds } : undefined);
        const pinned = rules.filter((rule) => !rule.Actions[0].ForwardConfig);
        expect(pinned.map((rule) => rule.Conditions[1]?.HttpHeaderConfig.Values[0]).sort()).toEqual(
          model.traffic.versionHeader ? model.versions.map((version) => version.name).sort() : [],
        );
        for (const rule of pinned) {
          const version = rule.Conditions[1].HttpHeaderConfig.Values[0];
          expect(rule.Conditions).toEqual([host, { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: model.traffic.versionHeader, Values: [version] } }]);
          expect(rule.Actions).toEqual([{ Type: 'forward', TargetGroupArn: { Ref: targetGroupId(version) } }]);
          // A pinned request must be matched before the weighted rule sends it elsewhere.
          expect(rule.Priority).toBeLessThan(weighted[0].Priority);
        }
        const first = listenerRulePriorities(modelNames(config)).get(model.name)!;
        for (const rule of rules) {
          expect(rule.Priority).toBeGreaterThanOrEqual(first);
          expect(rule.Priority).toBeLessThan(first + PRIORITIES_PER_MODEL);
          const [listenerId, listener] = referencedResource(rule.ListenerArn);
          expect([listenerId, listener.Type]).toEqual([expect.stringMatching(/^LoadBalancer/), 'AWS::ElasticLoadBalancingV2::Listener']);
        }
      });

      test("gives every version p95, p99, error-ratio and no-healthy-target alarms on its own target group, and the model one composite alarm, all notifying the Ingress stack's alarm topic", () => {
        const alarms = resources('AWS::CloudWatch::Alarm').map(([alarmId, alarm]) => ({ alarmId, ...alarm.Properties }));
        const composites = resources('AWS::CloudWatch::CompositeAlarm').map(([, alarm]) => alarm.Properties);
        const notified = (alarm: Record<string, unknown>) => {
          for (const actions of [alarm.AlarmActions, alarm.OKActions] as unknown[][]) {
            expect(actions).toHaveLength(1);
            expect(ingressOutput(actions[0])).toBe(true);
            const [topicId, topic] = referencedResource(actions[0] as StackOutputReference);
            expect([topicId, topic.Type]).toEqual([expect.stringMatching(/^AlarmTopic/), 'AWS::SNS::Topic']);
          }
        };
        const prefix = modelAlarmNamePrefix(config, model.name);
        const versionAlarms = model.versions.flatMap((version) =>
          Object.values(versionAlarmNames(prefix, version.name)).map((alarmName) => {
            const alarm = alarms.find((candidate) => candidate.AlarmName === alarmName);
            expect([alarmName, alarm]).toEqual([alarmName, expect.anything()]);
            notified(alarm!);
            const text = JSON.stringify(alarm);
            expect(text).toContain(`"${targetGroupId(version.name)}"`);
            for (const other of otherTargetGroups(version.name)) {
              expect(text).not.toContain(`"${other}"`);
            }
            return alarm!.alarmId;
          }),
        );
        // Besides the batch, training and drift jobs' alarms, where the model has the jobs.
        const jobAlarms = [modelBatchAlarmName(prefix), modelTrainingAlarmName(prefix), modelDriftAlarmName(prefix), modelDriftRunAlarmName(prefix)];
        expect(alarms.filter((alarm) => !jobAlarms.includes(alarm.AlarmName as string))).toHaveLength(versionAlarms.length);
        expect(composites.map((composite) => composite.AlarmName)).toEqual([modelSloAlarmName(prefix)]);
        notified(composites[0]);
        const rule = JSON.stringify(composites[0].AlarmRule);
        for (const alarmId of versionAlarms) {
          expect(rule).toContain(`"${alarmId}"`);
        }
      });

      test("binds each version's target group to its Service, or to the router's for the primary of a model with a router", () => {
        const bindings = objectsOfKind<{ targetGroupARN: string; targetType: string; serviceRef: { name: string; port: number } }>(applied, 'TargetGroupBinding');
        expect(bindings.map((binding) => binding.metadata.name).sort()).toEqual(model.versions.map((version) => `${model.name}-${version.name}`).sort());
        model.versions.forEach((version, index) => {
          const binding = findObject<{ targetGroupARN: string; targetType: string; serviceRef: { name: string; port: number } }>(bindings, 'TargetGroupBinding', `${model.name}-${version.name}`);
          expect(intrinsic(binding.spec.targetGroupARN)).toEqual({ Ref: targetGroupId(version.name) });
          expect(binding.spec.targetType).toBe('ip');
          const service = router && index === 0 ? `${model.name}-router` : `${model.name}-${version.name}`;
          expect(binding.spec.serviceRef.name).toBe(service);
          const ports = findObject<k8s.ServiceSpec>(applied, 'Service', service).spec.ports ?? [];
          expect(ports.map((port) => port.port)).toContain(binding.spec.serviceRef.port);
        });
      });

      test("scales each version with KEDA between its configured bounds on its own target group's request count, CPU and a cron floor per peak window", () => {
        type Trigger = { type: string; metadata: Record<string, string> };
        expect(objectsOfKind(applied, 'ScaledObject').map((object) => object.metadata.name).sort()).toEqual(
          model.versions.map((version) => `${model.name}-${version.name}`).sort(),
        );
        for (const version of model.versions) {
          const scaledObject = findObject<{ minReplicaCount: number; maxReplicaCount: number; triggers: Trigger[] }>(applied, 'ScaledObject', `${model.name}-${version.name}`);
          const { autoscaling } = version;
          expect(scaledObject.spec).toMatchObject({ minReplicaCount: autoscaling.workingHours ? 0 : autoscaling.minReplicas, maxReplicaCount: autoscaling.maxReplicas });
          expect(scaledObject.spec.triggers[0]).toEqual({ type: 'cpu', metricType: 'Utilization', metadata: { value: String(autoscaling.targetCpuUtilization) } });
          const requests = scaledObject.spec.triggers.filter((trigger) => trigger.type === 'aws-cloudwatch');
          expect(requests).toHaveLength(1);
          expect(requests[0].metadata).toMatchObject({ awsRegion: stage.region, namespace: 'AWS/ApplicationELB', dimensionName: 'LoadBalancer;TargetGroup' });
          const targetGroup = requests[0].metadata.dimensionValue.split(';')[1];
          expect(intrinsic(targetGroup)).toEqual({ 'Fn::GetAtt': [targetGroupId(version.name), 'TargetGroupFullName'] });
          const floors = scaledObject.spec.triggers.filter((trigger) => trigger.type === 'cron').map((trigger) => Number(trigger.metadata.desiredReplicas));
          expect(floors).toEqual([...(autoscaling.workingHours ? [autoscaling.minReplicas] : []), ...autoscaling.peakWindows.map((window) => window.minReplicas)]);
        }
      });

      test('serves each configured version as its own Deployment, and a router where the model has a shadow or a fallback', () => {
        expect(objectsOfKind(applied, 'Deployment').map((object) => object.metadata.name).sort()).toEqual(
          [...model.versions.map((version) => `${model.name}-${version.name}`), ...(router ? [`${model.name}-router`] : [])].sort(),
        );
      });

      test("admits only the load-balancer subnets, the namespaces config lists and the model's own router to the model's pods", () => {
        const loadBalancerCidrs = loadBalancerSubnetCidrs(committedTemplate(name, 'Network'));
        expect(loadBalancerCidrs.length).toBeGreaterThan(0);
        const policy = findObject<k8s.NetworkPolicySpec>(applied, 'NetworkPolicy', `${model.name}-ingress`);
        expect(policy.spec.podSelector).toEqual({ matchLabels: { 'mlops.platform/model': model.name } });
        expect(policy.spec.ingress).toHaveLength(1);
        const from = policy.spec.ingress?.[0].from ?? [];
        expect(from.flatMap((peer) => peer.ipBlock ?? [])).toEqual(loadBalancerCidrs.map((cidr) => ({ cidr })));
        const namespaces = from.flatMap((peer) => (peer.namespaceSelector ? [peer.namespaceSelector] : []));
        expect(namespaces).toEqual(model.exposure.allowedNamespaces.map((namespace) => ({ matchLabels: { 'kubernetes.io/metadata.name': namespace } })));
        const pods = from.filter((peer) => peer.podSelector);
        expect(pods).toEqual(router ? [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': `${model.name}-router` } } }] : []);
        expect(from).toHaveLength(loadBalancerCidrs.length + namespaces.length + pods.length);
      });

      test("binds the model's service account to a role that holds only the model's read policy", () => {
        const associations = resources('AWS::EKS::PodIdentityAssociation')
          .map(([, association]) => association.Properties)
          .filter((association) => ![`${model.name}-batch`, `${model.name}-training`, `${model.name}-drift`].includes(association.ServiceAccount as string));
        expect(associations).toEqual([expect.objectContaining({ Namespace: model.team, ServiceAccount: model.name })]);
        const roles = resources('AWS::IAM::Role').filter(([roleId]) => !['Batch', 'Training', 'Drift'].some((job) => roleId.startsWith(job)));
        expect(roles).toHaveLength(1);
        const [[roleId, role]] = roles;
        expect(associations[0].RoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
        expect(role.Properties.ManagedPolicyArns).toHaveLength(1);
        const [policyId, policy] = referencedResource(role.Properties.ManagedPolicyArns[0]);
        expect([policyId, policy.Type]).toEqual([expect.stringMatching(new RegExp(`^ArtifactsModel${compact(model.name)}ReadPolicy[0-9A-F]{8}$`)), 'AWS::IAM::ManagedPolicy']);
        expect(role.Properties.Policies).toBeUndefined();
        expect(role.Properties.AssumeRolePolicyDocument.Statement.map((statement: { Principal: unknown }) => statement.Principal)).toEqual([{ Service: 'pods.eks.amazonaws.com' }]);
        expect(resources('AWS::IAM::Policy').filter(([, policy]) => JSON.stringify(policy.Properties.Roles).includes(`"${roleId}"`))).toEqual([]);
        expect(findObject(applied, 'ServiceAccount', model.name).metadata.namespace).toBe(model.team);
      });

      test("gives a model with a batch job a CronJob whose role reads the input folder, writes only the model's predictions and alarms the topic", () => {
        if (!model.batch) {
          expect(objectsOfKind(applied, 'CronJob').filter((cronJob) => cronJob.metadata.name === `${model.name}-batch`)).toEqual([]);
          return;
        }
        const cronJob = findObject<k8s.CronJobSpec>(applied, 'CronJob', `${model.name}-batch`);
        expect(cronJob.metadata.namespace).toBe(model.team);
        expect(cronJob.spec).toMatchObject({ schedule: model.batch.schedule, timeZone: model.batch.timeZone, concurrencyPolicy: 'Forbid' });
        const [[, association]] = resources('AWS::EKS::PodIdentityAssociation').filter(([, candidate]) => candidate.Properties.ServiceAccount === `${model.name}-batch`);
        const batchRoleId = (association.Properties.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
        const [policyId, policy] = referencedResource(template.toJSON().Resources[batchRoleId].Properties.ManagedPolicyArns[0]);
        expect([policyId, policy.Type]).toEqual([expect.stringMatching(new RegExp(`^ArtifactsModel${compact(model.name)}PredictionsPolicy[0-9A-F]{8}$`)), 'AWS::IAM::ManagedPolicy']);
        const alarm = resources('AWS::CloudWatch::Alarm').find(([, candidate]) => candidate.Properties.AlarmName === modelBatchAlarmName(modelAlarmNamePrefix(config, model.name)));
        expect(alarm?.[1].Properties).toMatchObject({ MetricName: 'Succeeded', TreatMissingData: 'breaching' });
        expect(ingressOutput((alarm?.[1].Properties.AlarmActions as unknown[])[0])).toBe(true);
      });

      test("gives a model with a training job a CronJob in its team's image whose role reads only its team's MLflow login, and alarms the topic", () => {
        if (!model.training) {
          expect(objectsOfKind(applied, 'CronJob').filter((cronJob) => cronJob.metadata.name === `${model.name}-training`)).toEqual([]);
          return;
        }
        const cronJob = findObject<k8s.CronJobSpec>(applied, 'CronJob', `${model.name}-training`);
        expect(cronJob.metadata.namespace).toBe(model.team);
        expect(cronJob.spec).toMatchObject({ schedule: model.training.schedule, timeZone: model.training.timeZone, concurrencyPolicy: 'Forbid' });
        const pod = cronJob.spec.jobTemplate.spec?.template.spec as k8s.PodSpec;
        expect(pod.initContainers?.map((container) => container.name)).toEqual(['mlflow-credentials', 'train', 'promote']);
        expect(pod.initContainers?.[1].image).toMatch(new RegExp(`:${model.training.image.replace(/\./g, '\\.')}$`));
        const [[, association]] = resources('AWS::EKS::PodIdentityAssociation').filter(([, candidate]) => candidate.Properties.ServiceAccount === `${model.name}-training`);
        const trainingRoleId = (association.Properties.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
        const secretReads = resources('AWS::IAM::Policy')
          .filter(([, policy]) => JSON.stringify(policy.Properties.Roles).includes(`"${trainingRoleId}"`))
          .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement)
          .filter((statement) => JSON.stringify(statement.Action).includes('secretsmanager:GetSecretValue'));
        expect(secretReads).toHaveLength(1);
        const [secretId, secret] = referencedResource(secretReads[0].Resource as StackOutputReference);
        expect([secret.Type, secretId]).toEqual(['AWS::SecretsManager::Secret', expect.stringMatching(new RegExp(`^TeamAccountsTeam${compact(model.team)}`))]);
        const alarm = resources('AWS::CloudWatch::Alarm').find(([, candidate]) => candidate.Properties.AlarmName === modelTrainingAlarmName(modelAlarmNamePrefix(config, model.name)));
        expect(alarm?.[1].Properties).toMatchObject({ MetricName: 'Succeeded', TreatMissingData: 'breaching' });
        expect(ingressOutput((alarm?.[1].Properties.AlarmActions as unknown[])[0])).toBe(true);
      });

      test("gives the training's role its input folder to list and read alone, and the team's code that folder and the pod's credentials, only when config names one", () => {
        if (!model.training) {
          return;
        }
        const template = findObject<k8s.CronJobSpec>(applied, 'CronJob', `${model.name}-training`).spec.jobTemplate.spec?.template as k8s.PodTemplateSpec;
        const train = (template.spec?.initContainers ?? [])[1];
        const [[, association]] = resources('AWS::EKS::PodIdentityAssociation').filter(([, candidate]) => candidate.Properties.ServiceAccount === `${model.name}-training`);
        const trainingRoleId = (association.Properties.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
        const s3Statements = resources('AWS::IAM::Policy')
          .filter(([, policy]) => JSON.stringify(policy.Properties.Roles).includes(`"${trainingRoleId}"`))
          .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement)
          .filter((statement) => JSON.stringify(statement.Action).includes('"s3:'));
        const { input } = model.training;
        const [, bucket, prefix] = /^s3:\/\/([^/]+)\/(.*)$/.exec(input ?? '') ?? [];
        expect({
          TRAINING_INPUT: envOf(train).TRAINING_INPUT,
          skipped: template.metadata?.annotations?.['eks.amazonaws.com/skip-containers'],
          s3: s3Statements.map((statement) => [statement.Action, statement.Resource]),
        }).toEqual(
          input
            ? { TRAINING_INPUT: input, skipped: 'promote', s3: [['s3:ListBucket', `arn:aws:s3:::${bucket}`], ['s3:GetObject', `arn:aws:s3:::${bucket}/${prefix}*`]] }
            : { TRAINING_INPUT: undefined, skipped: 'train,promote', s3: [] },
        );
      });

      test("applies the chart after its Pod Identity association, and the stack after its team's namespace and the GPU node pools (Serving), KEDA (Cluster), its listener and alarm topic (Ingress) and its repository and read policy (Data)", () => {
        const [[associationId]] = resources('AWS::EKS::PodIdentityAssociation');
        const [[chartId, chart]] = resources('Custom::AWSCDK-EKS-KubernetesResource');
        expect([chartId, chart.DependsOn]).toEqual([chartId, expect.arrayContaining([associationId])]);
        // The namespace and the pools are in another stack, so CDK orders the stacks instead of the resources.
        const serving = Object.entries(committedTemplate(name, 'Serving').findResources('Custom::AWSCDK-EKS-KubernetesResource')).map(([logicalId]) => logicalId);
        expect(serving).toContainEqual(expect.stringMatching(new RegExp(`^Team${compact(model.team)}Chart`)));
        if (config.gpuPools.length > 0) {
          expect(serving).toContainEqual(expect.stringMatching(/^GpuNodePools/));
        }
        const { dependencies } = stage.stacks[id];
        expect(dependencies).toEqual(expect.arrayContaining(['Serving', 'Cluster', 'Ingress', 'Data']));
        // A model stack stands alone: deploying or rolling back one model never waits on another.
        expect(dependencies.filter((dependency) => dependency.startsWith('Model-') || dependency === 'Monitoring')).toEqual([]);
      });

      test('is protected from deletion in production', () => {
        expect(stage.stacks[id].terminationProtection).toBe(config.environmentType === 'production');
      });
    });
  }
});
