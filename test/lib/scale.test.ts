import * as fs from 'node:fs';
import { Stack } from 'aws-cdk-lib';
import { fixtureEnvironment, STACK_IDS, testStage } from '../helpers/app';

/** CloudFormation's template size limit (bytes, when uploaded to S3) and resource limit. */
const TEMPLATE_LIMIT_BYTES = 1_000_000;
const MAX_TEMPLATE_SHARE = 0.4;
const MAX_RESOURCES = 300;

const ACCOUNT = '123456789012';

/** One version of a served model, sized for its share of the traffic. */
function version(name: string, gpu: boolean, extra: Record<string, unknown> = {}) {
  return {
    name,
    version: 1,
    imageTag: `1.0.0-${name}`,
    resources: { cpuRequestMillicores: gpu ? 2000 : 1000, cpuLimitMillicores: gpu ? 4000 : 2000, memoryRequestMiB: gpu ? 8192 : 2048, memoryLimitMiB: gpu ? 8192 : 2048 },
    ...(gpu ? { gpu: { pool: 'inference', count: 1 } } : {}),
    autoscaling: { minReplicas: 1, maxReplicas: gpu ? 3 : 4 },
    podRequestsPerSecond: gpu ? 50 : 40,
    ...extra,
  };
}

/**
 * One served model in three versions, every traffic feature on (a canary, a version header, a
 * fallback through the router); every fourth model runs on GPUs, as a mixed fleet would.
 */
function model(team: number, index: number) {
  const gpu = index === 3;
  return {
    name: `model-${team}-${index + 1}`,
    registeredModel: `model-${team}-${index + 1}`,
    versions: [version('v1', gpu), version('v2', gpu), version('v3', gpu)],
    traffic: { weights: { v1: 80, v2: 20 }, versionHeader: 'x-model-version', fallback: 'v3' },
    capacity: { peakRequestsPerSecond: 100 },
    // Every model callable from the next team, so each namespace carries cross-team policies too.
    exposure: { allowedNamespaces: [`team-${(team % 5) + 1}`] },
  };
}

/**
 * A production environment with 20 models of 3 versions: five teams of four, every fourth model on GPUs. Built
 * here, not from config/, so that what the committed files serve does not change the measurement.
 */
const PRODUCTION_WITH_TWENTY_MODELS = {
  environmentType: 'production',
  account: ACCOUNT,
  region: 'eu-west-1',
  availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
  network: { natGateways: 3 },
  cluster: { admins: [`arn:aws:iam::${ACCOUNT}:role/PlatformAdmin`], addons: { 'metrics-server': 'v0.8.0-eksbuild.2' }, nodePool: { cpuLimit: 256, memoryLimitGiB: 1024 } },
  ingress: { servingDomain: 'models.example.internal', certificateArn: `arn:aws:acm:eu-west-1:${ACCOUNT}:certificate/00000000-0000-4000-8000-000000000000` },
  alarms: { emails: ['ops@example.com'] },
  mlflow: { hostname: 'mlflow.example.internal', replicas: 3 },
  gpuPools: [{ name: 'inference', instanceFamilies: ['g6', 'g5'], gpuLimit: 80, cpuLimit: 512 }],
  teams: Array.from({ length: 5 }, (_, index) => ({
    name: `team-${index + 1}`,
    admins: [`arn:aws:iam::${ACCOUNT}:role/Team${index + 1}Admin`],
    members: [`arn:aws:iam::${ACCOUNT}:role/Team${index + 1}Member`],
    quota: { cpu: 80, memoryGiB: 256, pods: 80, gpus: 16 },
    models: Array.from({ length: 4 }, (__, position) => model(index + 1, position)),
  })),
};

describe('a production environment with 20 models', () => {
  const config = fixtureEnvironment(PRODUCTION_WITH_TWENTY_MODELS, 'scale');
  const stage = testStage(config);
  const assembly = stage.synth();

  test('serves all 20, five of them on GPUs', () => {
    const models = config.teams.flatMap((team) => team.models);
    expect([models.length, models.filter((candidate) => candidate.versions[0].gpu).length]).toEqual([20, 5]);
  });

  // Every stack of the stage: the fixed ones and one per model.
  const stacks = stage.node.children.filter((child): child is Stack => child instanceof Stack);

  test('makes a stack per model besides the fixed ones', () => {
    expect(stacks.map((stack) => stack.node.id)).toEqual([...STACK_IDS.slice(0, -1), ...config.teams.flatMap((team) => team.models.map((candidate) => `Model-${candidate.name}`)), 'Monitoring']);
  });

  test.each(stacks.map((stack) => stack.node.id))(`keeps the %s template under ${MAX_TEMPLATE_SHARE * 100} % of 1 MB and ${MAX_RESOURCES} resources`, (id) => {
    const artifact = assembly.getStackByName(stacks.find((stack) => stack.node.id === id)!.stackName);
    // The file the CLI uploads, as written, not a re-serialisation of it.
    const bytes = fs.statSync(artifact.templateFullPath).size;
    expect(bytes).toBeLessThan(TEMPLATE_LIMIT_BYTES * MAX_TEMPLATE_SHARE);
    expect(Object.keys(artifact.template.Resources).length).toBeLessThan(MAX_RESOURCES);
  });
});
