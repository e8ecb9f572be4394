import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { loadEnvironments, validateEnvironments } from '../../../lib/config/load';
import { CONFIG_DIR, ENVIRONMENTS, MINIMAL_MODEL, MINIMAL_VERSION } from '../../helpers/app';
import { scratchFolder } from '../../helpers/scratch';

/** A minimal valid production environment, to break one field at a time. */
const VALID = {
  environmentType: 'production',
  account: '123456789012',
  region: 'eu-west-1',
  availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
  cluster: { addons: { 'metrics-server': 'v0.8.0-eksbuild.2' } },
  ingress: { certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-4000-8000-000000000000' },
  mlflow: { hostname: 'mlflow.example.internal' },
};
const { cluster, ingress, mlflow } = VALID;

/** A serving setup that fits: one GPU pool, a team with a CPU and a GPU model, and someone to hear the alarms. */
const GPU_POOL = { name: 'inference', instanceFamilies: ['g6'], gpuLimit: 4 };
const CPU_MODEL = MINIMAL_MODEL;
const GPU_VERSION = { ...MINIMAL_VERSION, gpu: { pool: 'inference', count: 1 }, autoscaling: { minReplicas: 1, maxReplicas: 3 } };
const GPU_MODEL = { ...CPU_MODEL, name: 'tagger', versions: [GPU_VERSION] };
const TEAM = { name: 'growth', quota: { cpu: 8, memoryGiB: 16, pods: 20, gpus: 4 }, models: [CPU_MODEL, GPU_MODEL] };
const ALARMS = { emails: ['ops@example.com'] };
const SERVING = { ...VALID, ingress: { ...ingress, servingDomain: 'models.example.internal' }, alarms: ALARMS, gpuPools: [GPU_POOL], teams: [TEAM] };
const PEAK = { timezone: 'Europe/Dublin', start: '45 7 * * 1-5', end: '0 10 * * 1-5', minReplicas: 4 };
const WORKING_HOURS = { timezone: 'Europe/Dublin', start: '0 8 * * 1-5', end: '0 19 * * 1-5' };
const withModel = (change: Record<string, unknown>) => ({ ...SERVING, teams: [{ ...TEAM, models: [{ ...CPU_MODEL, ...change }] }] });
const withTeam = (change: Record<string, unknown>) => ({ ...SERVING, teams: [{ ...TEAM, ...change }] });
/** The serving setup with the CPU model's only version changed. */
const withVersion = (change: Record<string, unknown>) => withModel({ versions: [{ ...MINIMAL_VERSION, ...change }] });
/** A second version of the CPU model, v2, built from registry version 2. */
const V2 = { ...MINIMAL_VERSION, name: 'v2', alias: undefined, version: 2, imageTag: '2.0.0' };
/** The serving setup with the CPU model serving `versions` split by `traffic`. */
const withVersions = (versions: Record<string, unknown>[], traffic?: Record<string, unknown>) => withModel({ versions, traffic });
/** The CPU model as v1 and v2, and v3 (registry version 3), split by `traffic`. */
const threeVersions = (traffic: Record<string, unknown>) =>
  withVersions([MINIMAL_VERSION, V2, { ...V2, name: 'v3', version: 3, imageTag: '3.0.0' }], traffic);
const AUTOSCALING = MINIMAL_VERSION.autoscaling;

function validate(settings: unknown, file = 'config/prod.yaml') {
  return validateEnvironments([{ file, text: typeof settings === 'string' ? settings : stringify(settings) }]);
}

function problemsOf(settings: unknown, file?: string) {
  const result = validate(settings, file);
  if (result.ok) {
    throw new Error('expected the config to be rejected');
  }
  return result.problems;
}

describe('the committed configs', () => {
  test('load without problems, one environment per file', () => {
    const result = loadEnvironments(CONFIG_DIR);
    expect(result.ok ? result.environments.map((environment) => environment.name) : result.message).toEqual(ENVIRONMENTS);
  });

  test('name the environment after the file', () => {
    const result = validate(VALID, 'config/qa.yaml');
    expect(result.ok && result.environments[0].name).toBe('qa');
  });

  test('fill every omitted setting with its default', () => {
    const result = validate(VALID);
    expect(result.ok && result.environments[0]).toMatchObject({
      namePrefix: 'mlops',
      network: { vpcCidr: '10.0.0.0/16', natGateways: 1, subnetMasks: { public: 24, private: 19, isolated: 24, loadBalancer: 26 } },
      database: { engineVersion: '17', multiAz: true, deletionProtection: true, backupRetentionDays: 14 },
      artifacts: { predictionsExpirationDays: 3 },
      cluster: {
        kubernetesVersion: '1.36',
        publicAccessCidrs: [],
        admins: [],
        logRetentionDays: 365,
        nodePool: { capacityTypes: ['on-demand'], consolidationPolicy: 'WhenEmptyOrUnderutilized', expireAfter: '336h' },
      },
      ingress: { scheme: 'internal' },
      mlflow: { replicas: 2, workers: 2 },
      alarms: { emails: [] },
      teams: [],
    });
  });
});

describe('a malformed config is rejected with its file and field', () => {
  const cases: [string, unknown, string, RegExp][] = [
    ['account that is not 12 digits', { ...VALID, account: '1234' }, 'account', /12-digit/],
    ['missing account', { ...VALID, account: undefined }, 'account', /is required/],
    ['region that is not a region code', { ...VALID, region: 'Ireland' }, 'region', /region code/],
    ['a single availability zone', { ...VALID, availabilityZones: ['eu-west-1a'] }, 'availabilityZones', /at least 2/],
    ['a zone of another region', { ...VALID, availabilityZones: ['eu-west-1a', 'us-east-1b'] }, 'availabilityZones[1]', /zone of region eu-west-1/],
    ['a zone listed twice', { ...VALID, availabilityZones: ['eu-west-1a', 'eu-west-1a'] }, 'availabilityZones[1]', /twice/],
    ['unknown environment type', { ...VALID, environmentType: 'qa' }, 'environmentType', /must be one of "development", "production"/],
    ['misspelt field', { ...VALID, network: { natGateway: 1 } }, 'network', /unknown field "natGateway" \(did you mean natGateways\?\); allowed: vpcCidr, natGateways/],
    ['CIDR with host bits', { ...VALID, network: { vpcCidr: '10.0.0.1/16' } }, 'network.vpcCidr', /network address/],
    ['CIDR that is not a CIDR', { ...VALID, network: { vpcCidr: '10.0.0.0' } }, 'network.vpcCidr', /IPv4 CIDR/],
    ['more NAT gateways than zones', { ...VALID, network: { natGateways: 4 } }, 'network.natGateways', /must not exceed the number of availabilityZones \(3\)/],
    ['no NAT gateway', { ...VALID, network: { natGateways: 0 } }, 'network.natGateways', /at least 1/],
    ['subnets larger than the VPC', { ...VALID, network: { vpcCidr: '10.0.0.0/20', subnetMasks: { private: 19 } } }, 'network.subnetMasks', /do not fit/],
    ['unknown interface endpoint', { ...VALID, network: { interfaceEndpoints: ['dynamodb'] } }, 'network.interfaceEndpoints[0]', /ecrApi/],
    ['flow log retention CloudWatch does not offer', { ...VALID, network: { flowLogs: { retentionDays: 400.5 } } }, 'network.flowLogs.retentionDays', /retention periods/],
    ['short flow log retention in production', { ...VALID, network: { flowLogs: { retentionDays: 30 } } }, 'network.flowLogs.retentionDays', /at least 365 when environmentType is production/],
    ['unsupported PostgreSQL version', { ...VALID, database: { engineVersion: '12' } }, 'database.engineVersion', /must be one of "16", "17", "18"/],
    ['instance type with db. prefix', { ...VALID, database: { instanceType: 'db.t4g.micro' } }, 'database.instanceType', /without the "db." prefix/],
    ['storage under the RDS minimum', { ...VALID, database: { allocatedStorageGiB: 5 } }, 'database.allocatedStorageGiB', /^must be at least 20$/],
    ['autoscaling ceiling under the allocation', { ...VALID, database: { allocatedStorageGiB: 100, maxAllocatedStorageGiB: 100 } }, 'database.maxAllocatedStorageGiB', /10% above/],
    ['production backups under 7 days', { ...VALID, database: { backupRetentionDays: 3 } }, 'database.backupRetentionDays', /at least 7 when environmentType is production/],
    ['production without deletion protection', { ...VALID, database: { deletionProtection: false } }, 'database.deletionProtection', /must be true when environmentType is production/],
    ['Performance Insights retention RDS rejects', { ...VALID, database: { performanceInsightsRetentionDays: 30 } }, 'database.performanceInsightsRetentionDays', /multiple of 31/],
    ['malformed maintenance window', { ...VALID, database: { maintenanceWindow: 'sunday 4am' } }, 'database.maintenanceWindow', /sun:04:30-sun:05:30/],
    ['string where a number belongs', { ...VALID, artifacts: { predictionsExpirationDays: 'three' } }, 'artifacts.predictionsExpirationDays', /^must be a number, not text$/],
    ['zero-day noncurrent version expiry', { ...VALID, artifacts: { noncurrentVersionExpirationDays: 0 } }, 'artifacts.noncurrentVersionExpirationDays', /^must be at least 1$/],
    ['team name that is not a DNS label', withTeam({ name: 'Data_Science' }), 'teams[0].name', /DNS label/],
    ['two teams with one name', { ...SERVING, teams: [TEAM, { ...TEAM, models: [] }] }, 'teams[1].name', /unique among teams/],
    ['team taking the MLflow namespace', withTeam({ name: 'mlflow' }), 'teams[0].name', /must not be a namespace the platform or Kubernetes uses/],
    ['one model name in two teams', { ...SERVING, teams: [TEAM, { ...TEAM, name: 'other', models: [CPU_MODEL] }] }, 'teams[1].models[0].name', /unique among all models/],
    ['model name that is not a DNS label', withModel({ name: 'Churn_Model' }), 'teams[0].models[0].name', /DNS label/],
    ['model without versions', withModel({ versions: [] }), 'teams[0].models[0].versions', /must list at least one version/],
    ['model with more versions than a load balancer rule forwards to', withVersions(['v1', 'v2', 'v3', 'v4', 'v5', 'v6'].map((name) => ({ ...MINIMAL_VERSION, name }))), 'teams[0].models[0].versions', /^must list at most 5 versions: a load balancer rule forwards to at most 5 target groups$/],
    ['two versions with one name', withVersions([MINIMAL_VERSION, { ...V2, name: 'v1' }]), 'teams[0].models[0].versions[1].name', /^must be unique among the model's versions$/],
    ['version name longer than 15 characters', withVersion({ name: 'release-2026-11-1' }), 'teams[0].models[0].versions[0].name', /at most 15 characters/],
    ['version name that is not a DNS label', withVersion({ name: 'V1' }), 'teams[0].models[0].versions[0].name', /DNS label/],
    ['version with both alias and version', withVersion({ version: 3 }), 'teams[0].models[0].versions[0].alias', /exactly one of alias or version/],
    ['version with neither alias nor version', withVersion({ alias: undefined }), 'teams[0].models[0].versions[0].alias', /exactly one of alias or version/],
    ['second version with both alias and version', withVersions([MINIMAL_VERSION, { ...V2, alias: 'challenger' }]), 'teams[0].models[0].versions[1].alias', /exactly one of alias or version/],
    ['image tag latest', withVersion({ imageTag: 'latest' }), 'teams[0].models[0].versions[0].imageTag', /not latest/],
    ['more min than max replicas', withVersion({ autoscaling: { minReplicas: 5, maxReplicas: 3 } }), 'teams[0].models[0].versions[0].autoscaling.minReplicas', /must not exceed autoscaling.maxReplicas \(3\)/],
    ['model without capacity figures', withModel({ capacity: undefined }), 'teams[0].models[0].capacity', /is required/],
    ['version without its pod request rate', withVersion({ podRequestsPerSecond: undefined }), 'teams[0].models[0].versions[0].podRequestsPerSecond', /is required/],
    ['pod request rate of zero', withVersion({ podRequestsPerSecond: 0 }), 'teams[0].models[0].versions[0].podRequestsPerSecond', /at least 0.1 requests per second/],
    ['peak request rate beyond any realistic load', withModel({ capacity: { peakRequestsPerSecond: 5e6 } }), 'teams[0].models[0].capacity.peakRequestsPerSecond', /at most 1000000 requests per second/],
    ['pod request rate beyond what a pod sustains', withVersion({ podRequestsPerSecond: 2e5 }), 'teams[0].models[0].versions[0].podRequestsPerSecond', /at most 100000 requests per second/],
    ['unknown capacity field', withModel({ capacity: { peakRequestsPerSecond: 100, averageRequestsPerSecond: 30 } }), 'teams[0].models[0].capacity', /unknown field "averageRequestsPerSecond"; allowed: peakRequestsPerSecond$/],
    ['pods at maxReplicas serving less than 1.3 × the peak', withModel({ capacity: { peakRequestsPerSecond: 200 } }), 'teams[0].models[0].versions[0].autoscaling.maxReplicas', /= 200 req\/s is below 1.3 × this version's share of capacity.peakRequestsPerSecond \(200 req\/s\) = 260 req\/s/],
    ['CPU request above its limit', withVersion({ resources: { cpuRequestMillicores: 2000, cpuLimitMillicores: 1000 } }), 'teams[0].models[0].versions[0].resources.cpuRequestMillicores', /must not exceed cpuLimitMillicores/],
    ['memory request above its limit', withVersion({ resources: { memoryRequestMiB: 4096, memoryLimitMiB: 2048 } }), 'teams[0].models[0].versions[0].resources.memoryRequestMiB', /must not exceed memoryLimitMiB/],
    ['GPU pool that does not exist', withVersion({ gpu: { pool: 'training' } }), 'teams[0].models[0].versions[0].gpu.pool', /must name a pool in gpuPools \(inference\)/],
    ['second version on a GPU pool that does not exist', withVersions([MINIMAL_VERSION, { ...V2, gpu: { pool: 'training' } }]), 'teams[0].models[0].versions[1].gpu.pool', /must name a pool in gpuPools \(inference\)/],
    ['more GPUs at peak than the pool allows', withVersion({ gpu: { pool: 'inference', count: 2 }, autoscaling: { minReplicas: 1, maxReplicas: 2 } }), 'teams[0].models[0].versions[0].gpu.count', /must not exceed the gpuLimit of pool inference \(4\)/],
    ['second version with more GPUs at peak than the pool allows', withVersions([MINIMAL_VERSION, { ...V2, gpu: { pool: 'inference', count: 2 }, autoscaling: { minReplicas: 1, maxReplicas: 2 } }]), 'teams[0].models[0].versions[1].gpu.count', /^times autoscaling.maxReplicas plus the rolling-update pod \(3\) must not exceed the gpuLimit of pool inference \(4\)$/],
    ['models at peak above the team CPU quota', withTeam({ quota: { ...TEAM.quota, cpu: 4 } }), 'teams[0].quota.cpu', /^must cover what team growth needs at peak \(4\.5\): serving 4\.5 \(every model at maxReplicas plus one rolling-update pod\)$/],
    ['models at peak above the team memory quota', withTeam({ quota: { ...TEAM.quota, memoryGiB: 8 } }), 'teams[0].quota.memoryGiB', /\(9\)/],
    ['models at peak above the team pod quota', withTeam({ quota: { ...TEAM.quota, pods: 8 } }), 'teams[0].quota.pods', /\(9\)/],
    ['GPU models without a GPU quota', withTeam({ quota: { ...TEAM.quota, gpus: 0 } }), 'teams[0].quota.gpus', /\(4\)/],
    ['every version of a model at peak above the team pod quota', withTeam({ quota: { ...TEAM.quota, pods: 13 }, models: [{ ...CPU_MODEL, versions: [MINIMAL_VERSION, V2] }, GPU_MODEL] }), 'teams[0].quota.pods', /\(14\)/],
    ['a router at peak above a team pod quota that fits the versions', withTeam({ quota: { ...TEAM.quota, pods: 16 }, models: [{ ...CPU_MODEL, versions: [MINIMAL_VERSION, V2], traffic: { fallback: 'v2' } }, GPU_MODEL] }), 'teams[0].quota.pods', /^must cover what team growth needs at peak \(17\): serving 14 \(every model at maxReplicas plus one rolling-update pod\), routers 3 \(2 pods plus one rolling-update pod each: churn\)$/],
    ['a router at peak above a team CPU quota that fits the versions', withTeam({ quota: { ...TEAM.quota, cpu: 7 }, models: [{ ...CPU_MODEL, versions: [MINIMAL_VERSION, V2], traffic: { shadow: { version: 'v2', percent: 10 } } }, GPU_MODEL] }), 'teams[0].quota.cpu', /at peak \(7\.3\): .*, routers 0\.3 \(2 pods plus one rolling-update pod each: churn\)$/],
    ['a router beyond a general pool that fits the CPU versions and MLflow', { ...SERVING, cluster: { ...cluster, nodePool: { cpuLimit: 6 } }, teams: [{ ...TEAM, models: [{ ...CPU_MODEL, versions: [MINIMAL_VERSION, { ...V2, autoscaling: { minReplicas: 2, maxReplicas: 3 } }], traffic: { fallback: 'v2' } }, GPU_MODEL] }] }, 'cluster.nodePool.cpuLimit', /^must cover what general pool needs at peak \(6\.3\): serving 4\.5 \(every CPU model at maxReplicas plus one rolling-update pod\), routers 0\.3 \(2 pods plus one rolling-update pod each: churn\), MLflow 1\.5 \(mlflow\.replicas plus one rolling-update pod\)$/],
    ['every GPU version of a model at peak beyond the pool\'s GPU limit', withTeam({ models: [{ ...GPU_MODEL, versions: [GPU_VERSION, { ...GPU_VERSION, name: 'v2', alias: 'challenger', autoscaling: { minReplicas: 1, maxReplicas: 1 } }] }] }), 'gpuPools[0].gpuLimit', /must cover what GPU pool inference needs at peak \(6\)/],
    ['GPU models sharing a pool beyond its GPU limit', { ...SERVING, teams: [{ ...TEAM, quota: { ...TEAM.quota, gpus: 8 }, models: [GPU_MODEL, { ...GPU_MODEL, name: 'tagger-2' }] }] }, 'gpuPools[0].gpuLimit', /must cover what GPU pool inference needs at peak \(8\)/],
    ['CPU models and MLflow beyond the general pool', { ...SERVING, cluster: { ...cluster, nodePool: { cpuLimit: 3 } } }, 'cluster.nodePool.cpuLimit', /must cover what general pool needs at peak \(4\)/],
    ['CI repository that is not owner/name', { ...VALID, ci: { githubRepository: 'https://github.com/example/repo' } }, 'ci.githubRepository', /owner\/name/],
    ['two GPU pools with one name', { ...SERVING, gpuPools: [GPU_POOL, GPU_POOL] }, 'gpuPools[1].name', /unique among gpuPools/],
    ['GPU pool named like the CPU pool', { ...SERVING, gpuPools: [{ ...GPU_POOL, name: 'general' }] }, 'gpuPools[0].name', /must not be general/],
    ['GPU pool with a made-up capacity type', { ...SERVING, gpuPools: [{ ...GPU_POOL, capacityType: 'reserved-ish' }] }, 'gpuPools[0].capacityType', /must be one of "on-demand", "spot"/],
    ['a principal in two teams', { ...SERVING, teams: [{ ...TEAM, admins: ['arn:aws:iam::123456789012:role/A'] }, { ...TEAM, name: 'other', models: [], members: ['arn:aws:iam::123456789012:role/A'] }] }, 'teams[1].members[0]', /must appear once/],
    ['two models at one host name', { ...SERVING, teams: [{ ...TEAM, models: [CPU_MODEL, { ...CPU_MODEL, name: 'ltv', exposure: { hostname: 'churn.models.example.internal' } }] }] }, 'teams[0].models[1].exposure.hostname', /must be unique/],
    ['models without a serving domain', { ...SERVING, ingress }, 'ingress.servingDomain', /is required once a team has models/],
    ['name prefix with capitals', { ...VALID, namePrefix: 'MLOps' }, 'namePrefix', /lowercase/],
    ['Kubernetes version without a kubectl layer', { ...VALID, cluster: { ...cluster, kubernetesVersion: '1.30' } }, 'cluster.kubernetesVersion', /"1.36"/],
    ['pods reaching AWS anywhere in production', { ...VALID, network: { podHttpsEgress: 'anywhere' } }, 'network.podHttpsEgress', /must be endpoints when environmentType is production/],
    ['pods limited to endpoints that are not created', { ...VALID, network: { interfaceEndpoints: ['ecrApi', 'secretsManager'] } }, 'network.interfaceEndpoints', /^must include s3, cloudWatchMetrics while network.podHttpsEgress is endpoints/],
    ['an endpoint subnet smaller than AWS allows', { ...VALID, network: { subnetMasks: { endpoints: 29 } } }, 'network.subnetMasks.endpoints', /28/],
    ['public API endpoint in production', { ...VALID, cluster: { ...cluster, publicAccessCidrs: ['203.0.113.0/24'] } }, 'cluster.publicAccessCidrs', /must be empty when environmentType is production/],
    ['API endpoint open to the internet', { ...VALID, environmentType: 'development', cluster: { ...cluster, publicAccessCidrs: ['0.0.0.0/0'] } }, 'cluster.publicAccessCidrs[0]', /must not be 0.0.0.0\/0/],
    ['admin that is not an IAM principal ARN', { ...VALID, cluster: { ...cluster, admins: ['PlatformAdmin'] } }, 'cluster.admins[0]', /ARN of an IAM role or user/],
    ['no metrics-server add-on', { ...VALID, cluster: { addons: {} } }, 'cluster.addons.metrics-server', /is required/],
    ['add-on version that is not pinned', { ...VALID, cluster: { addons: { 'metrics-server': 'latest' } } }, 'cluster.addons.metrics-server', /EKS add-on version/],
    ['node expiry beyond Auto Mode\'s 21 days', { ...VALID, cluster: { ...cluster, nodePool: { expireAfter: '720h' } } }, 'cluster.nodePool.expireAfter', /at most 504h/],
    ['malformed consolidation delay', { ...VALID, cluster: { ...cluster, nodePool: { consolidateAfter: 'soon' } } }, 'cluster.nodePool.consolidateAfter', /duration/],
    ['unknown capacity type', { ...VALID, cluster: { ...cluster, nodePool: { capacityTypes: ['reserved-ish'] } } }, 'cluster.nodePool.capacityTypes[0]', /must be one of "on-demand", "spot"/],
    ['short control-plane log retention in production', { ...VALID, cluster: { ...cluster, logRetentionDays: 30 } }, 'cluster.logRetentionDays', /at least 365 when environmentType is production/],
    ['production without a TLS certificate', { ...VALID, ingress: {} }, 'ingress.certificateArn', /required when environmentType is production/],
    ['certificate that is not an ACM ARN', { ...VALID, ingress: { certificateArn: 'my-cert' } }, 'ingress.certificateArn', /ACM certificate ARN/],
    ['load balancer scheme AWS does not offer', { ...VALID, ingress: { ...ingress, scheme: 'public' } }, 'ingress.scheme', /must be one of "internal", "internet-facing"/],
    ['MLflow host name with capitals', { ...VALID, mlflow: { hostname: 'MLflow.Example.com' } }, 'mlflow.hostname', /lowercase DNS name/],
    ['no MLflow host name', { ...VALID, mlflow: {} }, 'mlflow.hostname', /is required/],
    ['a single MLflow replica in production', { ...VALID, mlflow: { ...mlflow, replicas: 1 } }, 'mlflow.replicas', /at least 2 when environmentType is production/],
    ['certificate from another region than the load balancer', { ...VALID, ingress: { certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000000' } }, 'ingress.certificateArn', /must be a certificate of region eu-west-1, not us-east-1/],
    ['certificate of another account', { ...VALID, ingress: { certificateArn: 'arn:aws:acm:eu-west-1:210987654321:certificate/00000000-0000-4000-8000-000000000000' } }, 'ingress.certificateArn', /must be a certificate of account 123456789012, not 210987654321/],
    ['backup window inside the maintenance window', { ...VALID, database: { backupWindow: '03:00-04:00', maintenanceWindow: 'sun:03:30-sun:04:30' } }, 'database.backupWindow', /must not overlap database.maintenanceWindow \(sun:03:30-sun:04:30\)/],
    ['backup window after midnight inside a maintenance window that wraps the week', { ...VALID, database: { backupWindow: '00:00-00:30', maintenanceWindow: 'sun:23:45-mon:00:15' } }, 'database.backupWindow', /must not overlap/],
    ['backup window across midnight overlapping the maintenance window', { ...VALID, database: { backupWindow: '23:45-00:15', maintenanceWindow: 'wed:00:00-wed:00:30' } }, 'database.backupWindow', /must not overlap/],
    ['backup window shorter than 30 minutes', { ...VALID, database: { backupWindow: '03:00-03:15' } }, 'database.backupWindow', /at least 30 minutes/],
    ['maintenance window shorter than 30 minutes', { ...VALID, database: { maintenanceWindow: 'sun:04:30-sun:04:45' } }, 'database.maintenanceWindow', /at least 30 minutes/],
    ['GPU pool of Inferentia instances', { ...SERVING, gpuPools: [{ ...GPU_POOL, instanceFamilies: ['inf2'] }] }, 'gpuPools[0].instanceFamilies[0]', /must be an NVIDIA GPU family: inf2 has AWS Inferentia2 chips/],
    ['GPU pool of Trainium instances', { ...SERVING, gpuPools: [{ ...GPU_POOL, instanceFamilies: ['g6', 'trn1'] }] }, 'gpuPools[0].instanceFamilies[1]', /trn1 has AWS Trainium chips/],
    ['GPU pool of AMD GPU instances', { ...SERVING, gpuPools: [{ ...GPU_POOL, instanceFamilies: ['g4ad'] }] }, 'gpuPools[0].instanceFamilies[0]', /g4ad has AMD GPUs/],
    ['GPU pool of Graviton GPU instances', { ...SERVING, gpuPools: [{ ...GPU_POOL, instanceFamilies: ['g5g'] }] }, 'gpuPools[0].instanceFamilies[0]', /g5g runs on Graviton \(arm64\)/],
    ['GPU pool of a CPU family', { ...SERVING, gpuPools: [{ ...GPU_POOL, instanceFamilies: ['m7i'] }] }, 'gpuPools[0].instanceFamilies[0]', /must be an NVIDIA GPU family EKS Auto Mode launches: g4dn, /],
    ['MLflow memory under the server\'s needs', { ...VALID, mlflow: { ...mlflow, memoryMiB: 128 } }, 'mlflow.memoryMiB', /^must be at least 512$/],
    ['peak window with a cron expression of 6 fields', withVersion({ autoscaling: { ...AUTOSCALING, peakWindows: [{ ...PEAK, start: '0 45 7 * * 1-5' }] } }), 'teams[0].models[0].versions[0].autoscaling.peakWindows[0].start', /must be a cron expression of 5 fields/],
    ['peak window in a time zone that does not exist', withVersion({ autoscaling: { ...AUTOSCALING, peakWindows: [{ ...PEAK, timezone: 'Europe/Dublinn' }] } }), 'teams[0].models[0].versions[0].autoscaling.peakWindows[0].timezone', /must be an IANA time zone such as Europe\/Dublin; did you mean Europe\/Dublin\?/],
    ['peak window that opens and closes at once', withVersion({ autoscaling: { ...AUTOSCALING, peakWindows: [{ ...PEAK, end: PEAK.start }] } }), 'teams[0].models[0].versions[0].autoscaling.peakWindows[0].end', /must differ from start/],
    ['peak window above maxReplicas', withVersion({ autoscaling: { ...AUTOSCALING, peakWindows: [{ ...PEAK, minReplicas: 5 }] } }), 'teams[0].models[0].versions[0].autoscaling.peakWindows[0].minReplicas', /must be above autoscaling.minReplicas \(2\) and at most autoscaling.maxReplicas \(4\)/],
    ['peak window no higher than minReplicas', withVersion({ autoscaling: { ...AUTOSCALING, peakWindows: [{ ...PEAK, minReplicas: 2 }] } }), 'teams[0].models[0].versions[0].autoscaling.peakWindows[0].minReplicas', /must be above autoscaling.minReplicas \(2\)/],
    ['working hours in production', withVersion({ autoscaling: { ...AUTOSCALING, workingHours: WORKING_HOURS } }), 'teams[0].models[0].versions[0].autoscaling.workingHours', /is allowed only when environmentType is development/],
    ['working hours of a second version in production', withVersions([MINIMAL_VERSION, { ...V2, autoscaling: { ...AUTOSCALING, workingHours: WORKING_HOURS } }]), 'teams[0].models[0].versions[1].autoscaling.workingHours', /is allowed only when environmentType is development/],
    ['weight of a version the model does not have', withVersions([MINIMAL_VERSION, V2], { weights: { v1: 90, v3: 10 } }), 'teams[0].models[0].traffic.weights.v3', /^must name a version of this model \(v1, v2\)$/],
    ['weight keyed by a name that cannot be a version', withVersions([MINIMAL_VERSION, V2], { weights: { v1: 90, V2: 10 } }), 'teams[0].models[0].traffic.weights.V2', /^must name a version of this model \(v1, v2\)$/],
    ['weights that do not sum to 100', withVersions([MINIMAL_VERSION, V2], { weights: { v1: 90, v2: 5 } }), 'teams[0].models[0].traffic.weights', /^must sum to 100, not 95$/],
    ['weight above 100', withVersions([MINIMAL_VERSION, V2], { weights: { v1: 110, v2: -10 } }), 'teams[0].models[0].traffic.weights.v1', /^must be at most 100$/],
    ['no weight for the first version', withVersions([MINIMAL_VERSION, V2], { weights: { v1: 0, v2: 100 } }), 'teams[0].models[0].traffic.weights.v1', /^must be above 0: v1, the first version, is the primary/],
    ['weights that leave the first version out', withVersions([MINIMAL_VERSION, V2], { weights: { v2: 100 } }), 'teams[0].models[0].traffic.weights.v1', /^must be above 0: v1, the first version, is the primary/],
    ['shadow of a version the model does not have', withVersions([MINIMAL_VERSION, V2], { shadow: { version: 'v3', percent: 10 } }), 'teams[0].models[0].traffic.shadow.version', /^must name a version of this model \(v1, v2\)$/],
    ['shadow of the first version', withVersions([MINIMAL_VERSION, V2], { shadow: { version: 'v1', percent: 10 } }), 'teams[0].models[0].traffic.shadow.version', /^must not be v1, the first version: it is the primary the shadow serves beside$/],
    ['shadow copying no requests', withVersions([MINIMAL_VERSION, V2], { shadow: { version: 'v2', percent: 0 } }), 'teams[0].models[0].traffic.shadow.percent', /^must be at least 1$/],
    ['shadow version that callers are routed to', withVersions([MINIMAL_VERSION, V2], { weights: { v1: 90, v2: 10 }, shadow: { version: 'v2', percent: 10 } }), 'teams[0].models[0].traffic.weights.v2', /^must be 0: a shadow version's answers are discarded/],
    ['fallback to a version the model does not have', withVersions([MINIMAL_VERSION, V2], { fallback: 'v3' }), 'teams[0].models[0].traffic.fallback', /^must name a version of this model \(v1, v2\)$/],
    ['fallback to the first version', withVersions([MINIMAL_VERSION, V2], { fallback: 'v1' }), 'teams[0].models[0].traffic.fallback', /^must not be v1, the first version: it is the primary the fallback serves beside$/],
    ['fallback to the shadow version', threeVersions({ shadow: { version: 'v2', percent: 10 }, fallback: 'v2' }), 'teams[0].models[0].traffic.fallback', /^must differ from traffic.shadow.version/],
    ['stickiness beyond the load balancer\'s 7 days', withVersions([MINIMAL_VERSION, V2], { weights: { v1: 50, v2: 50 }, stickinessSeconds: 604801 }), 'teams[0].models[0].traffic.stickinessSeconds', /^must be at most 604800$/],
    ['version header the load balancer routes on already', withVersions([MINIMAL_VERSION, V2], { versionHeader: 'host' }), 'teams[0].models[0].traffic.versionHeader', /^must be a header of its own, not one HTTP or the load balancer already uses/],
    ['version header carrying credentials', withVersions([MINIMAL_VERSION, V2], { versionHeader: 'authorization' }), 'teams[0].models[0].traffic.versionHeader', /^must be a header of its own/],
    ['version header with capitals', withVersions([MINIMAL_VERSION, V2], { versionHeader: 'X-Model-Version' }), 'teams[0].models[0].traffic.versionHeader', /lowercase HTTP header name such as x-model-version/],
    ['unknown traffic field', withVersions([MINIMAL_VERSION, V2], { mirror: { version: 'v2', percent: 10 } }), 'teams[0].models[0].traffic', /unknown field "mirror"; allowed: weights, stickinessSeconds, versionHeader, shadow, fallback/],
    ['p95 target under 10 ms', withModel({ slo: { p95Milliseconds: 5 } }), 'teams[0].models[0].slo.p95Milliseconds', /^must be at least 10$/],
    ['no alarm subscriber in production with a model', { ...SERVING, alarms: undefined }, 'alarms.emails', /^must list at least one address \(or set alarms.httpsEndpoint\) when environmentType is production and a team has a model/],
    ['alarm address that is not one', { ...SERVING, alarms: { emails: ['ops at example.com'] } }, 'alarms.emails[0]', /^must be an email address$/],
    ['alarm endpoint over plain HTTP', { ...SERVING, alarms: { httpsEndpoint: 'http://hooks.example.com/alarms' } }, 'alarms.httpsEndpoint', /^must be an https:\/\/ URL$/],
    ['load-balancer subnets smaller than a load balancer takes', { ...VALID, network: { subnetMasks: { loadBalancer: 28 } } }, 'network.subnetMasks.loadBalancer', /^must be at most 27: a load balancer needs a \/27 or larger subnet/],
    ['load-balancer and endpoint subnets that do not fit beside the other three', { ...VALID, network: { vpcCidr: '10.0.0.0/21', subnetMasks: { public: 24, private: 24, isolated: 25 } } }, 'network.subnetMasks', /^five subnets per availability zone of these sizes do not fit in network.vpcCidr 10.0.0.0\/21/],
  ];

  test.each(cases)('%s', (_title, settings, field, message) => {
    const problems = problemsOf(settings);
    expect(problems).toContainEqual(expect.objectContaining({ file: 'config/prod.yaml', field, message: expect.stringMatching(message) }));
  });

  test('more model versions than the shared load balancer has target groups for are rejected, counting MLflow\'s', () => {
    // 20 models of 5 versions: 100 target groups, and MLflow's makes 101.
    const version = (name: string) => ({ name, alias: 'champion', imageTag: '1.0.0', autoscaling: { minReplicas: 1, maxReplicas: 3 }, podRequestsPerSecond: 50 });
    const model = (index: number) => ({ ...CPU_MODEL, name: `model-${index}`, versions: ['v1', 'v2', 'v3', 'v4', 'v5'].map(version) });
    const teams = Array.from({ length: 4 }, (_, team) => ({
      name: `team-${team}`,
      quota: { cpu: 1000, memoryGiB: 4000, pods: 1000 },
      models: Array.from({ length: 5 }, (__, index) => model(team * 5 + index)),
    }));
    const settings = { ...SERVING, cluster: { ...SERVING.cluster, nodePool: { cpuLimit: 10000, memoryLimitGiB: 100000 } }, gpuPools: [], teams };
    expect(problemsOf(settings)).toContainEqual(
      expect.objectContaining({ field: 'teams', message: expect.stringMatching(/at most 99 model versions in all.*these take 101/) }),
    );
    const fewer = { ...settings, teams: [...teams.slice(0, 3), { ...teams[3], models: teams[3].models.slice(0, 4) }] };
    expect(validate(fewer, 'config/prod.yaml')).toMatchObject({ ok: true });
  });

  test('a file that is not YAML names the line', () => {
    expect(problemsOf('account: [1,\n', 'config/dev.yaml')).toEqual([
      expect.objectContaining({ file: 'config/dev.yaml', message: expect.stringMatching(/not valid YAML.*at line \d+, column \d+/) }),
    ]);
  });

  test('a file holding a list instead of settings is rejected', () => {
    expect(problemsOf('- a\n- b\n')[0].message).toMatch(/mapping of settings/);
  });

  test('a file name that cannot name a stage is rejected', () => {
    expect(problemsOf(VALID, 'config/Prod_EU.yaml')[0]).toMatchObject({ file: 'config/Prod_EU.yaml', received: 'Prod_EU' });
  });

  test('teams whose models fit their quota and GPU pools are accepted', () => {
    const result = validate(SERVING);
    expect(result.ok && result.environments[0].teams[0].models[1]).toMatchObject({
      versions: [
        {
          gpu: { pool: 'inference', count: 1 },
          resources: { cpuRequestMillicores: 500, cpuLimitMillicores: 1000, memoryRequestMiB: 1024, memoryLimitMiB: 1024 },
          autoscaling: { targetCpuUtilization: 60 },
          startupSeconds: 600,
        },
      ],
      exposure: { allowedNamespaces: [] },
    });
  });

  test('a model fills its SLO with the users\' latency targets and a 1 % error ratio, and leaves traffic to the first version', () => {
    const result = validate(SERVING);
    expect(result.ok && result.environments[0].teams[0].models[0]).toMatchObject({
      slo: { p95Milliseconds: 300, p99Milliseconds: 500, errorRatioPercent: 1 },
      traffic: {},
    });
  });

  test('a version whose pods at maxReplicas serve less than 1.3 × the model\'s peak is rejected with the numbers and the fix', () => {
    const problems = problemsOf(withModel({ versions: [{ ...MINIMAL_VERSION, autoscaling: { minReplicas: 2, maxReplicas: 8 }, podRequestsPerSecond: 150 }], capacity: { peakRequestsPerSecond: 1000 } }));
    expect(problems).toEqual([
      {
        file: 'config/prod.yaml',
        field: 'teams[0].models[0].versions[0].autoscaling.maxReplicas',
        message:
          "× podRequestsPerSecond 150 = 1200 req/s is below 1.3 × this version's share of capacity.peakRequestsPerSecond (1000 req/s) = 1300 req/s; " +
          'raise maxReplicas to at least 9 or measure podRequestsPerSecond again (npm run bench:serving)',
        received: 8,
      },
    ]);
  });

  test.each([
    ['whole numbers', 13, 10, 100],
    ['the users\' peak', 10, 130, 1000],
    ['fractional rates, where 1.3 × 6 is 7.800000000000001 in floating point', 4, 1.95, 6],
  ])('a version whose pods at maxReplicas serve exactly 1.3 × its peak is accepted (%s)', (_title, maxReplicas, podRequestsPerSecond, peakRequestsPerSecond) => {
    const version = { ...MINIMAL_VERSION, autoscaling: { minReplicas: 2, maxReplicas }, podRequestsPerSecond };
    const result = validate(withModel({ versions: [version], capacity: { peakRequestsPerSecond } }));
    expect(result.ok && result.environments[0].teams[0].models[0].versions[0].podRequestsPerSecond).toBe(podRequestsPerSecond);
  });

  /**
   * Four versions sized by their share of a 100 req/s peak: v1 80 % and v2 20 % of the requests, v3
   * the shadow of 50 % of v1's (40 %), v4 the fallback standing in for all of v1's (80 %).
   * `sized` gives what each version serves at its maxReplicas of 2.
   */
  const sharedModel = (sized: { v1: number; v2: number; v3: number; v4: number }) =>
    withModel({
      versions: (['v1', 'v2', 'v3', 'v4'] as const).map((name, index) => ({
        ...MINIMAL_VERSION,
        name,
        alias: undefined,
        version: index + 1,
        autoscaling: { minReplicas: 1, maxReplicas: 2 },
        podRequestsPerSecond: sized[name] / 2,
      })),
      traffic: { weights: { v1: 80, v2: 20 }, shadow: { version: 'v3', percent: 50 }, fallback: 'v4' },
      capacity: { peakRequestsPerSecond: 100 },
    });
  const EXACTLY = { v1: 104, v2: 26, v3: 52, v4: 104 };

  test('each version needs 1.3 × its share of the peak only: its weight, the shadow\'s copies, the fallback\'s stand-in', () => {
    expect(validate(sharedModel(EXACTLY)).ok).toBe(true);
  });

  test.each([
    ['a canary below 1.3 × its weight', 'v2', 1, "× podRequestsPerSecond 12.5 = 25 req/s is below 1.3 × this version's share of capacity.peakRequestsPerSecond (20 req/s) = 26 req/s; raise maxReplicas to at least 3"],
    ['a shadow below 1.3 × its percent of the first version\'s weight', 'v3', 2, "× podRequestsPerSecond 25.5 = 51 req/s is below 1.3 × this version's share of capacity.peakRequestsPerSecond (40 req/s) = 52 req/s; raise maxReplicas to at least 3"],
    ['a fallback below 1.3 × the first version\'s weight', 'v4', 3, "× podRequestsPerSecond 51.5 = 103 req/s is below 1.3 × this version's share of capacity.peakRequestsPerSecond (80 req/s) = 104 req/s; raise maxReplicas to at least 3"],
  ] as const)('%s is rejected with its share in the message', (_title, name, index, message) => {
    expect(problemsOf(sharedModel({ ...EXACTLY, [name]: EXACTLY[name] - 1 }))).toEqual([
      {
        file: 'config/prod.yaml',
        field: `teams[0].models[0].versions[${index}].autoscaling.maxReplicas`,
        message: `${message} or measure podRequestsPerSecond again (npm run bench:serving)`,
        received: 2,
      },
    ]);
  });

  test('a fallback that also takes a weight needs 1.3 × both', () => {
    const versions = [MINIMAL_VERSION, { ...V2, autoscaling: { minReplicas: 1, maxReplicas: 2 }, podRequestsPerSecond: 64 }];
    const problems = problemsOf(withVersions(versions, { weights: { v1: 80, v2: 20 }, fallback: 'v2' }));
    expect(problems).toEqual([expect.objectContaining({ field: 'teams[0].models[0].versions[1].autoscaling.maxReplicas', message: expect.stringMatching(/share of capacity.peakRequestsPerSecond \(100 req\/s\) = 130 req\/s/) })]);
  });

  test('a model without a shadow or a fallback needs no room for a router in its team\'s quota', () => {
    // v1 and v2 at maxReplicas 4 and the GPU model at 3, each plus a rolling-update pod: 14 pods, 7 vCPUs, 14 GiB.
    const canary = { ...CPU_MODEL, versions: [MINIMAL_VERSION, V2], traffic: { weights: { v1: 90, v2: 10 }, versionHeader: 'x-model-version' } };
    expect(validate(withTeam({ quota: { ...TEAM.quota, pods: 14, cpu: 7, memoryGiB: 14 }, models: [canary, GPU_MODEL] })).ok).toBe(true);
  });

  test('a version with no weight, shadow or fallback needs no serving capacity', () => {
    const idle = { ...V2, autoscaling: { minReplicas: 1, maxReplicas: 1 }, podRequestsPerSecond: 0.1 };
    expect(validate(withVersions([MINIMAL_VERSION, idle])).ok).toBe(true);
  });

  test('canary, A/B with stickiness and a version header, shadow and fallback are accepted together', () => {
    const versions = ['v1', 'v2', 'v3', 'v4'].map((name, index) => ({ ...MINIMAL_VERSION, name, alias: undefined, version: index + 1, autoscaling: { minReplicas: 1, maxReplicas: 3 } }));
    const traffic = { weights: { v1: 60, v2: 40 }, stickinessSeconds: 3600, versionHeader: 'x-model-version', shadow: { version: 'v3', percent: 10 }, fallback: 'v4' };
    // Room for the four versions at peak (16 pods, 8 vCPUs, 16 GiB) and the router (3 pods of 0.1 vCPU and 64 MiB).
    const result = validate(withTeam({ quota: { ...TEAM.quota, pods: 19, cpu: 8.3, memoryGiB: 16.25 }, models: [{ ...CPU_MODEL, versions, traffic }] }));
    expect(result.ok && result.environments[0].teams[0].models[0].traffic).toEqual(traffic);
  });

  test('peak windows within the bounds are accepted, and working hours in development', () => {
    expect(validate(withVersion({ autoscaling: { ...AUTOSCALING, peakWindows: [PEAK, { ...PEAK, timezone: 'Asia/Kolkata' }] } })).ok).toBe(true);
    expect(validate({ ...withVersion({ autoscaling: { ...AUTOSCALING, workingHours: WORKING_HOURS } }), environmentType: 'development' }).ok).toBe(true);
  });

  test('an HTTPS endpoint alone is enough of an alarm subscriber in production', () => {
    expect(validate({ ...SERVING, alarms: { httpsEndpoint: 'https://hooks.example.com/alarms' } }).ok).toBe(true);
  });

  test('production needs no alarm subscriber while no team has a model', () => {
    expect(validate({ ...SERVING, alarms: undefined, teams: [{ ...TEAM, models: [] }] }).ok).toBe(true);
  });

  test('development needs no alarm subscriber, even with models', () => {
    expect(validate({ ...SERVING, environmentType: 'development', alarms: undefined }).ok).toBe(true);
  });

  test('load-balancer subnets of /27 fit where the default /26 does not', () => {
    const network = { vpcCidr: '10.0.0.0/21', subnetMasks: { public: 26, private: 24, isolated: 24, loadBalancer: 27 } };
    expect(validate({ ...VALID, network }).ok).toBe(true);
    expect(validate({ ...VALID, network: { ...network, subnetMasks: { ...network.subnetMasks, loadBalancer: 26 } } }).ok).toBe(false);
  });

  test('pods of a development environment without interface endpoints may reach AWS anywhere', () => {
    const network = { interfaceEndpoints: [], podHttpsEgress: 'anywhere' };
    expect(validate({ ...VALID, environmentType: 'development', network }).ok).toBe(true);
    expect(validate({ ...VALID, environmentType: 'development', network: { interfaceEndpoints: [] } }).ok).toBe(false);
  });

  test('development environments may drop protection that production must keep', () => {
    const result = validate({
      ...VALID,
      environmentType: 'development',
      network: { flowLogs: { retentionDays: 7 } },
      database: { deletionProtection: false, backupRetentionDays: 1, logRetentionDays: 1 },
      cluster: { ...cluster, publicAccessCidrs: ['203.0.113.0/24'], logRetentionDays: 7 },
      ingress: {},
      mlflow: { ...mlflow, replicas: 1 },
    });
    expect(result.ok).toBe(true);
  });
});

describe('values RDS, the load balancer and GPU nodes accept are not refused', () => {
  test.each([
    ['a backup window ending as the maintenance window starts', { backupWindow: '03:00-03:30', maintenanceWindow: 'sun:03:30-sun:04:00' }],
    ['a maintenance window that wraps the week, apart from the backup window', { backupWindow: '02:00-02:30', maintenanceWindow: 'sun:23:30-mon:00:30' }],
    ['a backup window across midnight, apart from the maintenance window', { backupWindow: '23:30-00:30', maintenanceWindow: 'sun:04:30-sun:05:00' }],
  ])('%s', (_title, database) => {
    expect(validate({ ...VALID, database }).ok).toBe(true);
  });

  test('a GPU pool may use every NVIDIA family Auto Mode launches on amd64', () => {
    const pool = { ...GPU_POOL, instanceFamilies: ['g4dn', 'g5', 'g6', 'g6e', 'gr6', 'g7e', 'p3dn', 'p4d', 'p4de', 'p5', 'p5e', 'p5en', 'p6-b200', 'p6-b300'] };
    expect(validate({ ...SERVING, gpuPools: [pool] }).ok).toBe(true);
  });
});

describe('a value of the wrong type or size gets a plain sentence with the fix', () => {
  /** Settings written as YAML text, so numbers keep the form the user typed. */
  const yaml = (lines: string) => `${stringify(VALID)}${lines}`;
  const messageOf = (text: string, field: string) => problemsOf(text).find((problem) => problem.field === field)?.message;

  test('an unquoted version YAML reads as a number is quoted back as the user wrote it', () => {
    const text = yaml('database:\n  engineVersion: 17\n').replace(/^cluster:\n/m, 'cluster:\n  kubernetesVersion: 1.36\n');
    expect(messageOf(text, 'cluster.kubernetesVersion')).toBe('must be text: write it in quotes: "1.36"');
    expect(messageOf(text, 'database.engineVersion')).toBe('must be text: write it in quotes: "17"');
  });

  test('a number where text belongs keeps its trailing zeros in the fix', () => {
    const text = stringify(withVersion({ imageTag: 'TAG' })).replace('imageTag: TAG', 'imageTag: 1.10');
    expect(messageOf(text, 'teams[0].models[0].versions[0].imageTag')).toBe('must be text: write it in quotes: "1.10"');
  });

  test('infinity is refused as not a number, and shown as written rather than as null', () => {
    const result = validate(yaml('artifacts:\n  predictionsExpirationDays: .inf\n'));
    expect(!result.ok && result.message).toContain('artifacts.predictionsExpirationDays: must be a number, not .inf (received: Infinity)');
  });

  test('a quoted number is refused with the unquoted form', () => {
    expect(messageOf(yaml('artifacts:\n  predictionsExpirationDays: "30"\n'), 'artifacts.predictionsExpirationDays')).toBe('must be a number: write 30 without quotes');
  });

  test('a fraction where a count belongs names the whole numbers around it', () => {
    expect(messageOf(yaml('artifacts:\n  predictionsExpirationDays: 2.5\n'), 'artifacts.predictionsExpirationDays')).toBe('must be a whole number, such as 2 or 3');
  });

  test('a quoted boolean is refused as text', () => {
    expect(messageOf(yaml('database:\n  multiAz: "yes"\n'), 'database.multiAz')).toBe('must be true or false, written without quotes; "yes" is text');
  });

  test.each([
    ['NAT gateways', 'network:\n  natGateways: 1e20\n', 'network.natGateways', 'must be at most 6'],
    ['a model registry version', '', 'teams[0].models[0].versions[0].version', 'must be at most 100000'],
    ['Performance Insights retention', 'database:\n  performanceInsightsRetentionDays: 9999999999999999\n', 'database.performanceInsightsRetentionDays', 'must be at most 731'],
  ])('%s have a realistic upper bound', (_title, lines, field, message) => {
    const text = lines === '' ? stringify(withVersion({ alias: undefined, version: 1e16 })) : yaml(lines);
    expect(messageOf(text, field)).toBe(message);
  });

  test.each([
    ['a model field', withModel({ registerdModel: 'churn' }), 'teams[0].models[0]', /unknown field "registerdModel" \(did you mean registeredModel\?\)/],
    ['a version field', withVersion({ podRequestPerSecond: 50 }), 'teams[0].models[0].versions[0]', /unknown field "podRequestPerSecond" \(did you mean podRequestsPerSecond\?\)/],
    ['a top-level field', { ...VALID, avilabilityZones: [] }, '', /unknown field "avilabilityZones" \(did you mean availabilityZones\?\)/],
    ['an allowed value', { ...VALID, environmentType: 'prodution' }, 'environmentType', /must be one of "development", "production"; did you mean production\?/],
    ['a GPU family', { ...SERVING, gpuPools: [{ ...GPU_POOL, instanceFamilies: ['g6x'] }] }, 'gpuPools[0].instanceFamilies[0]', /did you mean g6\?/],
  ])('a typo in %s suggests the nearest allowed one', (_title, settings, field, message) => {
    expect(problemsOf(settings)).toContainEqual(expect.objectContaining({ field, message: expect.stringMatching(message) }));
  });

  test('no message uses the validator\'s own wording', () => {
    const text = [
      'environmentType: 1',
      'account: 123456789012',
      'region: [eu-west-1]',
      'availabilityZones: eu-west-1a',
      'namePrefix: ""',
      'tags: [a]',
      'network: { natGateways: -1, vpcCidr: 10, subnetMasks: { public: 99 }, interfaceEndpoints: sts }',
      'database: { multiAz: 1, allocatedStorageGiB: .nan, instanceType: 3 }',
      'artifacts: 7',
      'cluster: { addons: { metrics-server: 1 }, admins: [1], nodePool: { cpuLimit: 1.5, capacityTypes: [] } }',
      'ingress: { scheme: true }',
      'mlflow: { hostname: mlflow.example.internal, replicas: "2", workers: 1e9 }',
      'alarms: { emails: [ops], httpsEndpoint: "http://x" }',
      'teams: [{ name: growth, quota: { cpu: 0, memoryGiB: x, pods: 1 }, models: [{ name: m, registeredModel: "", capacity: {}, slo: { p95Milliseconds: 0 },',
      '  versions: [{ name: V1, version: 0, imageTag: 1, podRequestsPerSecond: "50" }], traffic: { weights: { V1: 1.5 }, shadow: { version: v2 }, versionHeader: Host } }] }]',
    ].join('\n');
    const messages = problemsOf(text).map((problem) => problem.message);
    expect(messages.length).toBeGreaterThan(20);
    expect(messages.filter((message) => /expected|received|Too (big|small)|Invalid|[<>]=|9007199254740991/.test(message))).toEqual([]);
  });
});

describe('problems across files', () => {
  test('overlapping VPC ranges of two environments are rejected', () => {
    const result = validateEnvironments([
      { file: 'config/dev.yaml', text: stringify({ ...VALID, network: { vpcCidr: '10.0.0.0/15' } }) },
      { file: 'config/prod.yaml', text: stringify({ ...VALID, network: { vpcCidr: '10.1.0.0/16' } }) },
    ]);
    expect(!result.ok && result.problems).toEqual([
      expect.objectContaining({ file: 'config/prod.yaml', field: 'network.vpcCidr', message: expect.stringMatching(/overlaps the VPC of environment "dev"/) }),
    ]);
  });

  test('environments sharing an account must agree on creating its one GitHub OIDC provider', () => {
    const ci = (createOidcProvider: boolean) => ({ githubRepository: 'example-org/mlops-platform', createOidcProvider });
    const result = validateEnvironments([
      { file: 'config/dev.yaml', text: stringify({ ...VALID, network: { vpcCidr: '10.1.0.0/16' }, ci: ci(true) }) },
      { file: 'config/qa.yaml', text: stringify({ ...VALID, network: { vpcCidr: '10.2.0.0/16' }, ci: ci(false) }) },
    ]);
    expect(!result.ok && result.problems).toEqual([
      expect.objectContaining({ file: 'config/qa.yaml', field: 'ci.createOidcProvider', message: expect.stringMatching(/must match environment "dev" in the same account/) }),
    ]);
  });

  test('every problem of every file is reported at once', () => {
    const result = validateEnvironments([
      { file: 'config/dev.yaml', text: stringify({ ...VALID, account: 'x', region: 'Ireland' }) },
      { file: 'config/prod.yaml', text: stringify({ ...VALID, database: { engineVersion: '9' } }) },
    ]);
    expect(!result.ok && result.problems.map((problem) => `${problem.file} ${problem.field}`)).toEqual([
      'config/dev.yaml account',
      'config/dev.yaml region',
      'config/dev.yaml availabilityZones[0]',
      'config/dev.yaml availabilityZones[1]',
      'config/dev.yaml availabilityZones[2]',
      'config/prod.yaml database.engineVersion',
    ]);
  });

  test('the message lists file, field, rule and received value, one problem a line', () => {
    const result = validate({ ...VALID, network: { natGateways: 4 } });
    expect(!result.ok && result.message).toBe(
      [
        'Invalid configuration, nothing was synthesized (1 problem):',
        '  config/prod.yaml: network.natGateways: must not exceed the number of availabilityZones (3) (received: 4)',
      ].join('\n'),
    );
  });

  test('a missing config folder is rejected in one line, without a stack trace', () => {
    const result = loadEnvironments(path.join(os.tmpdir(), 'no-such-config-folder'));
    expect(!result.ok && result.message).toMatch(/no-such-config-folder: is not a folder/);
  });

  test('a .yml file or any other file in the config folder is refused, so no environment silently drops out', () => {
    const folder = fs.mkdtempSync(path.join(scratchFolder(), 'config-'));
    fs.writeFileSync(path.join(folder, 'prod.yml'), 'environmentType: production\n');
    fs.writeFileSync(path.join(folder, 'notes.txt'), 'x');
    const result = loadEnvironments(folder);
    expect(!result.ok && result.message).toMatch(/prod\.yml: is not read: environment files end in \.yaml; rename it to prod\.yaml/);
    expect(!result.ok && result.message).toMatch(/notes\.txt: is not read/);
  });

  test('a config folder without environments is rejected', () => {
    const empty = fs.mkdtempSync(path.join(scratchFolder(), 'config-'));
    const result = loadEnvironments(empty);
    expect(!result.ok && result.message).toMatch(/holds no <environment>.yaml file/);
  });
});

describe('dns: the zone the platform publishes its host names in', () => {
  // SERVING's hosts: mlflow.example.internal, churn.models.example.internal and tagger.models.example.internal.
  const withDns = (dns: Record<string, unknown>, change: Record<string, unknown> = {}) => ({ ...SERVING, ...change, dns });
  const problemAt = (settings: unknown, field: string) => problemsOf(settings).find((problem) => problem.field === field)?.message;

  test('a zone that holds every host is accepted', () => {
    const result = validate(withDns({ zoneName: 'example.internal' }));
    expect(result.ok ? result.environments[0].dns : result.message).toEqual({ zoneName: 'example.internal' });
  });

  test('a host may be the zone\'s apex', () => {
    expect(validate({ ...VALID, dns: { zoneName: 'mlflow.example.internal' } }).ok).toBe(true);
  });

  test('is optional: without it the platform publishes nothing', () => {
    const result = validate(SERVING);
    expect(result.ok && result.environments[0].dns).toBeUndefined();
  });

  test('MLflow\'s host outside the zone is rejected in one line naming the host and the zone', () => {
    const result = validate(withDns({ zoneName: 'models.example.internal' }));
    expect(!result.ok && result.message.split('\n')).toContain(
      '  config/prod.yaml: mlflow.hostname: must be inside dns.zoneName: mlflow.example.internal is not in zone models.example.internal, the only zone the platform writes records to (received: "mlflow.example.internal")',
    );
  });

  test('a model\'s own host name outside the zone is rejected at that field', () => {
    expect(problemAt(withDns({ zoneName: 'example.internal' }, withModel({ exposure: { hostname: 'churn.example.com' } })), 'teams[0].models[0].exposure.hostname')).toBe(
      'must be inside dns.zoneName: churn.example.com is not in zone example.internal, the only zone the platform writes records to',
    );
  });

  test('model hosts named after a servingDomain outside the zone are rejected once, at ingress.servingDomain, listing them', () => {
    const problems = problemsOf(withDns({ zoneName: 'example.internal' }, { ingress: { ...SERVING.ingress, servingDomain: 'models.example.com' }, mlflow: { hostname: 'mlflow.example.internal' } }));
    expect(problems.filter((problem) => problem.field.includes('hostname') || problem.field.startsWith('ingress'))).toEqual([
      expect.objectContaining({
        field: 'ingress.servingDomain',
        message: 'must put every model host inside dns.zoneName: churn.models.example.com, tagger.models.example.com are not in zone example.internal, the only zone the platform writes records to',
      }),
    ]);
  });

  test('a host whose name only ends with the zone\'s letters is not inside it', () => {
    expect(problemAt(withDns({ zoneName: 'ample.internal' }), 'mlflow.hostname')).toMatch(/^must be inside dns.zoneName: mlflow.example.internal is not in zone ample.internal/);
  });

  test('an internet-facing load balancer needs an existing zone: a private one would answer inside the VPC only', () => {
    const internetFacing = { ingress: { ...SERVING.ingress, scheme: 'internet-facing' } };
    expect(problemAt(withDns({ zoneName: 'example.internal' }, internetFacing), 'dns.hostedZoneId')).toMatch(/^is required when ingress.scheme is internet-facing: a private zone answers inside the VPC only/);
    expect(validate(withDns({ zoneName: 'example.internal', hostedZoneId: 'Z0123456789ABCDEFGHIJ' }, internetFacing)).ok).toBe(true);
  });

  test.each([
    ['a zone name with capitals', { zoneName: 'Example.internal' }, 'dns.zoneName', /^must be a lowercase DNS name, e.g. prod.mlops.example.internal$/],
    ['a zone name with a trailing dot', { zoneName: 'example.internal.' }, 'dns.zoneName', /^must be a lowercase DNS name/],
    ['a zone ID that is not one', { zoneName: 'example.internal', hostedZoneId: '/hostedzone/Z0123' }, 'dns.hostedZoneId', /^must be a Route 53 hosted zone ID, e.g. Z0123456789ABCDEFGHIJ$/],
    ['a zone ID longer than Route 53 gives', { zoneName: 'example.internal', hostedZoneId: `Z${'A'.repeat(32)}` }, 'dns.hostedZoneId', /^must be a Route 53 hosted zone ID/],
    ['no zone name', { hostedZoneId: 'Z0123456789ABCDEFGHIJ' }, 'dns.zoneName', /is required/],
    ['an unknown field', { zoneName: 'example.internal', zoneId: 'Z0123456789ABCDEFGHIJ' }, 'dns', /unknown field "zoneId"; allowed: zoneName, hostedZoneId/],
  ])('%s is rejected', (_title, dns, field, message) => {
    expect(problemAt(withDns(dns), field)).toMatch(message);
  });
});

describe('batch inference settings', () => {
  const BATCH = { schedule: '30 5 * * *', timeZone: 'Europe/Dublin', input: 's3://churn-data/scoring/daily/', format: 'csv' };
  const withBatch = (change: Record<string, unknown>) => withModel({ batch: { ...BATCH, ...change } });
  const BATCH_PATH = 'teams[0].models[0].batch';

  test('a batch job fills in its defaults: UTC, an hour to run, two retries, a 10 GiB scratch volume', () => {
    const result = validate(withModel({ batch: { ...BATCH, timeZone: undefined } }));
    expect(result.ok && result.environments[0].teams[0].models[0].batch).toEqual({ ...BATCH, timeZone: 'UTC', timeoutMinutes: 60, retries: 2, workVolumeGiB: 10 });
  });

  test.each([
    ['weekdays only, the weekend gap of 3 days within the alarm window', '0 6 * * mon-fri'],
    ['every other day', '0 6 */2 * *'],
    ['on listed days of the month or of the week, either field matching when both are given', '15 2 1,15 * sun,wed'],
  ])('a schedule running %s is accepted', (_title, schedule) => {
    expect(validate(withBatch({ schedule })).ok).toBe(true);
  });

  test.each([
    ['a schedule of 6 fields', { schedule: '0 30 5 * * *' }, 'schedule', /^must be a cron expression of 5 fields .*: has 6 fields, not 5/],
    ['a schedule with minute 60', { schedule: '60 5 * * *' }, 'schedule', /^must be a cron expression .*: minute "60" is outside 0-59/],
    ['a schedule with day of week 7, which Kubernetes refuses', { schedule: '0 5 * * 7' }, 'schedule', /day of week "7" is outside 0-6/],
    ['a schedule with a made-up month name', { schedule: '0 5 1 foo *' }, 'schedule', /month "foo" is not a number or a name such as jan/],
    ['an hourly schedule, whose runs would share a date folder', { schedule: '0 * * * *' }, 'schedule', /^must run at most once a day, at one minute of one hour .*predictions\/<model>\/<date>\//],
    ['a schedule that never runs', { schedule: '0 5 30 2 *' }, 'schedule', /^must run on some day/],
    ['a weekly schedule, longer than an alarm can watch', { schedule: '0 5 * * 1' }, 'schedule', /^runs up to 7 days apart: .* would have to watch 172 hours, and a CloudWatch alarm of hourly periods watches at most 168/],
    ['a timeout that lets a daily run overlap the next one', { timeoutMinutes: 1380 }, 'timeoutMinutes', /^must end a run before the next one may start: at most 1365/],
    ['a time zone that does not exist', { timeZone: 'Europe/Dublinn' }, 'timeZone', /did you mean Europe\/Dublin\?/],
    ['an input without a folder', { input: 's3://churn-data/' }, 'input', /^must be an S3 folder such as s3:\/\/fraud-data\/scoring\/daily\//],
    ['an input that is not a folder', { input: 's3://churn-data/scoring/daily.csv' }, 'input', /^must be an S3 folder/],
    ['an input with a wildcard, which would widen the role', { input: 's3://churn-data/scoring/*/' }, 'input', /^must be an S3 folder/],
    ['an input bucket name with capitals', { input: 's3://Churn-Data/scoring/' }, 'input', /^must be an S3 folder/],
    ['an unknown format', { format: 'avro' }, 'format', /must be one of "csv", "parquet", "json"/],
    ['a KMS key that is an alias', { inputKmsKeyArn: 'alias/churn' }, 'inputKmsKeyArn', /^must be a KMS key ARN/],
    ['a CPU request above the first version\'s limit', { resources: { cpuRequestMillicores: 2000 } }, 'resources.cpuRequestMillicores', /^must not exceed the CPU limit \(1000\)$/],
    ['a memory request above its own limit', { resources: { memoryRequestMiB: 4096, memoryLimitMiB: 2048 } }, 'resources.memoryRequestMiB', /^must not exceed the memory limit \(2048\)$/],
    ['an unknown field', { retry: 3 }, '', /unknown field "retry"; allowed: schedule, timeZone/],
  ])('%s is rejected', (_title, change, field, message) => {
    const problems = problemsOf(withBatch(change));
    expect(problems).toContainEqual(expect.objectContaining({ field: field ? `${BATCH_PATH}.${field}` : BATCH_PATH, message: expect.stringMatching(message) }));
  });

  test('a model named <model>-batch beside a model with a batch job is rejected: the job\'s service account takes that name', () => {
    const settings = { ...SERVING, teams: [{ ...TEAM, models: [{ ...CPU_MODEL, batch: BATCH }, { ...CPU_MODEL, name: 'churn-batch' }, GPU_MODEL] }] };
    expect(problemsOf(settings)).toContainEqual(
      expect.objectContaining({ field: BATCH_PATH, message: expect.stringMatching(/^must not be set while a model is named churn-batch/) }),
    );
  });
});

describe('drift settings', () => {
  const DRIFT = { schedule: '0 7 * * *', reference: 's3://growth-data/training/', current: 's3://growth-data/scoring/daily/', format: 'csv', threshold: 0.3 };
  const withDrift = (change: Record<string, unknown>) => withModel({ drift: { ...DRIFT, ...change } });
  const DRIFT_PATH = 'teams[0].models[0].drift';

  test('a drift report fills in its defaults: UTC, 30 minutes to run, one retry, a 10 GiB scratch volume, 0.5-1 CPU and 2 GiB', () => {
    const result = validate(withDrift({}));
    expect(result.ok && result.environments[0].teams[0].models[0].drift).toEqual({
      ...DRIFT,
      timeZone: 'UTC',
      timeoutMinutes: 30,
      retries: 1,
      workVolumeGiB: 10,
      resources: { cpuRequestMillicores: 500, cpuLimitMillicores: 1000, memoryRequestMiB: 2048, memoryLimitMiB: 2048 },
    });
  });

  test.each([
    ['an hourly schedule', { schedule: '0 * * * *' }, 'schedule', /^must run at most once a day, .*the alarm reads one value a run/],
    ['a weekly schedule, longer than an alarm can watch', { schedule: '0 5 * * 1' }, 'schedule', /^runs up to 7 days apart/],
    ['a threshold above 1', { threshold: 1.5 }, 'threshold', /./],
    ['a negative threshold', { threshold: -0.1 }, 'threshold', /./],
    ['a reference that is not an S3 folder', { reference: 's3://growth-data/training.csv' }, 'reference', /^must be an S3 folder/],
    ['a current folder equal to the reference', { current: 's3://growth-data/training/' }, 'current', /^must not be the reference folder/],
    ['a current folder inside the reference', { current: 's3://growth-data/training/2026/' }, 'current', /^must not be the reference folder/],
    ['an unknown format', { format: 'xlsx' }, 'format', /./],
    ['a memory request above its limit', { resources: { memoryRequestMiB: 4096 } }, 'resources.memoryRequestMiB', /^must not exceed the memory limit \(2048\)$/],
    ['an unknown field', { kmsKeyArn: 'x' }, '', /unknown field "kmsKeyArn"/],
  ])('%s is rejected', (_title, change, field, message) => {
    const problems = problemsOf(withDrift(change));
    expect(problems).toContainEqual(expect.objectContaining({ field: field ? `${DRIFT_PATH}.${field}` : DRIFT_PATH, message: expect.stringMatching(message) }));
  });

  test("a reference given as a registered model's run artifact is accepted as written, and may be compared with any current folder", () => {
    const reference = { alias: 'champion', artifactPath: 'reference/train.parquet' };
    const result = validate(withDrift({ reference, current: 's3://growth-data/training/' }));
    expect(result.ok && result.environments[0].teams[0].models[0].drift?.reference).toEqual(reference);
  });

  test.each([
    ['a mapping without its artifact path', { alias: 'champion' }, 'reference', /^must give both alias and artifactPath, as text: \{ alias: champion, artifactPath: reference\/train.parquet \}$/],
    ['a mapping with a numeric alias', { alias: 1, artifactPath: 'train.csv' }, 'reference', /^must give both alias and artifactPath, as text/],
    ['an alias MLflow refuses', { alias: 'champion@1', artifactPath: 'train.csv' }, 'reference.alias', /^must be an MLflow alias such as champion$/],
    ['an artifact path outside the run', { alias: 'champion', artifactPath: 'reference/../../other-run/train.csv' }, 'reference.artifactPath', /^must be a path among the run's artifacts such as reference\/train.parquet/],
    ['an absolute artifact path', { alias: 'champion', artifactPath: '/reference/train.csv' }, 'reference.artifactPath', /^must be a path among the run's artifacts/],
    ['an unknown field in the mapping', { alias: 'champion', artifactPath: 'train.csv', version: 3 }, 'reference', /unknown field "version"/],
    ['a models:/ URI, which names a model, not a run artifact', 'models:/growth@champion/train.csv', 'reference', /^must be an S3 folder such as .*, or a mapping naming a run artifact: \{ alias: champion, artifactPath: reference\/train.parquet \}$/],
    ['a list', ['s3://growth-data/training/'], 'reference', /^must be an S3 folder such as s3:\/\/fraud-data\/training\/, or a mapping naming a run artifact/],
  ])('a reference that is %s is rejected with one problem', (_title, reference, field, message) => {
    const problems = problemsOf(withDrift({ reference }));
    expect(problems).toEqual([expect.objectContaining({ field: `${DRIFT_PATH}.${field}`, message: expect.stringMatching(message) })]);
  });

  test("a model named <model>-drift beside a model with a drift report is rejected: the job's service account takes that name", () => {
    const settings = { ...SERVING, teams: [{ ...TEAM, models: [{ ...CPU_MODEL, drift: DRIFT }, { ...CPU_MODEL, name: 'churn-drift' }, GPU_MODEL] }] };
    expect(problemsOf(settings)).toContainEqual(
      expect.objectContaining({ field: DRIFT_PATH, message: expect.stringMatching(/^must not be set while a model is named churn-drift/) }),
    );
  });
});

describe('training settings', () => {
  const TRAINING = { schedule: '0 2 * * *', image: 'train-1.0.0', command: ['python', '/app/train.py'], experiment: 'growth/churn', metric: 'val_auc', direction: 'max' };
  const withTraining = (change: Record<string, unknown>) => withModel({ training: { ...TRAINING, ...change } });
  const TRAINING_PATH = 'teams[0].models[0].training';

  test('a training job fills in its defaults: UTC, two hours to run, two retries, a 20 GiB scratch volume, any improvement, 1-2 CPUs and 4 GiB', () => {
    const result = validate(withTraining({}));
    expect(result.ok && result.environments[0].teams[0].models[0].training).toEqual({
      ...TRAINING,
      timeZone: 'UTC',
      minImprovement: 0,
      timeoutMinutes: 120,
      retries: 2,
      workVolumeGiB: 20,
      resources: { cpuRequestMillicores: 1000, cpuLimitMillicores: 2000, memoryRequestMiB: 4096, memoryLimitMiB: 4096 },
    });
  });

  test('a training job on a GPU pool of the environment is accepted', () => {
    expect(validate(withTraining({ gpu: { pool: 'inference', count: 2 } })).ok).toBe(true);
  });

  test('a training job reading an S3 input folder, encrypted with a KMS key, is accepted as written', () => {
    const input = { input: 's3://growth-data/training/daily/', inputKmsKeyArn: 'arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-4000-8000-000000000000' };
    const result = validate(withTraining(input));
    expect(result.ok && result.environments[0].teams[0].models[0].training).toMatchObject(input);
  });

  test('an input that is not an S3 folder is refused in one line naming the file, the field and the form allowed', () => {
    const result = validate(withTraining({ input: 's3://growth-data/training/*.csv' }));
    expect(!result.ok && result.message.split('\n').filter((line) => line.includes('.training.'))).toEqual([
      `  config/prod.yaml: ${TRAINING_PATH}.input: must be an S3 folder such as s3://fraud-data/scoring/daily/: a bucket name, then a prefix of letters, digits and !_.'()- ending in / (received: "s3://growth-data/training/*.csv")`,
    ]);
  });

  test.each([
    ['an hourly schedule', { schedule: '0 * * * *' }, 'schedule', /^must run at most once a day, .*registers a new version for the promotion gate/],
    ['a weekly schedule, longer than an alarm can watch', { schedule: '0 5 * * 1' }, 'schedule', /^runs up to 7 days apart/],
    ['a timeout that lets a daily run overlap the next one', { timeoutMinutes: 1380 }, 'timeoutMinutes', /^must end a run before the next one may start: at most 1365/],
    ['an image tag latest', { image: 'latest' }, 'image', /^must name a release, not latest/],
    ['an image given as a URI', { image: '111111111111.dkr.ecr.eu-west-1.amazonaws.com/x:1' }, 'image', /^must be a Docker image tag in the model's ECR repository/],
    ['an empty command', { command: [] }, 'command', /^must list the program and its arguments/],
    ['an experiment outside the team', { experiment: 'fraud/churn' }, 'experiment', /^must start with the team's name, growth\/, e.g. growth\/churn/],
    ['an experiment that is the team prefix alone', { experiment: 'growth/' }, 'experiment', /^must start with the team's name/],
    ['an unknown direction', { direction: 'up' }, 'direction', /must be one of "max", "min"/],
    ['a negative minimum improvement', { minImprovement: -0.1 }, 'minImprovement', /./],
    ['a GPU pool the environment lacks', { gpu: { pool: 'training', count: 1 } }, 'gpu.pool', /^must name a pool in gpuPools \(inference\)$/],
    ['more GPUs than the pool may run', { gpu: { pool: 'inference', count: 8 } }, 'gpu.count', /^must not exceed the gpuLimit of pool inference \(4\)$/],
    ['a CPU request above its limit', { resources: { cpuRequestMillicores: 4000 } }, 'resources.cpuRequestMillicores', /^must not exceed the CPU limit \(2000\)$/],
    ['a memory request above its limit', { resources: { memoryRequestMiB: 8192 } }, 'resources.memoryRequestMiB', /^must not exceed the memory limit \(4096\)$/],
    ['a scratch volume larger than node disk allows', { workVolumeGiB: 100 }, 'workVolumeGiB', /^must be at most 60 GiB: the scratch volume is node disk/],
    ['an input without a folder, which would open the whole bucket', { input: 's3://growth-data/' }, 'input', /^must be an S3 folder such as s3:\/\/fraud-data\/scoring\/daily\//],
    ['an input that is a file', { input: 's3://growth-data/training/rows.csv' }, 'input', /^must be an S3 folder/],
    ['an input with a wildcard, which would widen the role', { input: 's3://growth-data/*/' }, 'input', /^must be an S3 folder/],
    ['an input KMS key that is an alias', { input: 's3://growth-data/training/', inputKmsKeyArn: 'alias/growth' }, 'inputKmsKeyArn', /^must be a KMS key ARN/],
    [
      'an input KMS key without an input',
      { inputKmsKeyArn: 'arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-4000-8000-000000000000' },
      'inputKmsKeyArn',
      /^must be set only with training.input: it is the key of the input files$/,
    ],
    ['an unknown field', { data: 's3://x/' }, '', /unknown field "data"/],
  ])('%s is rejected', (_title, change, field, message) => {
    const problems = problemsOf(withTraining(change));
    expect(problems).toContainEqual(expect.objectContaining({ field: field ? `${TRAINING_PATH}.${field}` : TRAINING_PATH, message: expect.stringMatching(message) }));
  });

  test("a model named <model>-training beside a model with a training job is rejected: the job's service account takes that name", () => {
    const settings = { ...SERVING, teams: [{ ...TEAM, models: [{ ...CPU_MODEL, training: TRAINING }, { ...CPU_MODEL, name: 'churn-training' }, GPU_MODEL] }] };
    expect(problemsOf(settings)).toContainEqual(
      expect.objectContaining({ field: TRAINING_PATH, message: expect.stringMatching(/^must not be set while a model is named churn-training/) }),
    );
  });
});
