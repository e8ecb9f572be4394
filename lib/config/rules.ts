import { z } from 'zod';
import { BATCH_STARTING_DEADLINE_MINUTES, batchAlarmWindowHours, batchResources, CronError, MAX_ALARM_WINDOW_HOURS, parseCron, runDays } from './batch-inference';
import { capacityLines, SERVING_HEADROOM, servingCapacity, versionShare } from './capacity';
import { isCanonicalIpv4Cidr, subnetsFit } from './cidr';
import { modelHostname } from './derived';
import { POD_API_ENDPOINTS } from './endpoints';
import { GENERAL_NODE_POOL, MLFLOW_NAMESPACE } from './platform-names';
import { windowsOverlap } from './rds-windows';
import type { EnvironmentSettings, ModelSettings } from './schema';

/** Namespaces a team may not take. */
const RESERVED_NAMESPACES = ['default', MLFLOW_NAMESPACE];

/** Target groups one Application Load Balancer may use (Elastic Load Balancing quotas; not adjustable). */
const MAX_TARGET_GROUPS_PER_LOAD_BALANCER = 100;

/** Control Tower's log retention control (CT.CLOUDWATCH.PR.2) asks for a year. */
const MIN_PRODUCTION_LOG_RETENTION_DAYS = 365;

/** The parts of an ACM certificate ARN the load balancer cares about. */
const ACM_CERTIFICATE_ARN = /^arn:[a-z-]+:acm:(?<region>[a-z0-9-]+):(?<account>\d{12}):certificate\//;

type Path = (string | number)[];

/** The rules of one model that span its fields. */
export function checkModelRules(model: ModelSettings, ctx: z.RefinementCtx): void {
  const fail = (path: Path, message: string, input: unknown) => ctx.addIssue({ code: 'custom', path, message, input });
  const names = model.versions.map((version) => version.name);
  const primary = names[0];

  model.versions.forEach((version, index) => {
    const at = (...path: Path) => ['versions', index, ...path];
    if (names.indexOf(version.name) !== index) {
      fail(at('name'), 'must be unique among the model\'s versions', version.name);
    }
    if ((version.alias === undefined) === (version.version === undefined)) {
      fail(at('alias'), 'give exactly one of alias or version', version.alias);
    }
    const { minReplicas, maxReplicas } = version.autoscaling;
    if (minReplicas > maxReplicas) {
      fail(at('autoscaling', 'minReplicas'), `must not exceed autoscaling.maxReplicas (${maxReplicas})`, minReplicas);
    }
    version.autoscaling.peakWindows.forEach((window, windowIndex) => {
      if (window.minReplicas <= minReplicas || window.minReplicas > maxReplicas) {
        fail(
          at('autoscaling', 'peakWindows', windowIndex, 'minReplicas'),
          `must be above autoscaling.minReplicas (${minReplicas}) and at most autoscaling.maxReplicas (${maxReplicas}): a peak window raises the floor within the bounds`,
          window.minReplicas,
        );
      }
    });
    const { resources } = version;
    if (resources.cpuRequestMillicores > resources.cpuLimitMillicores) {
      fail(at('resources', 'cpuRequestMillicores'), 'must not exceed cpuLimitMillicores', resources.cpuRequestMillicores);
    }
    if (resources.memoryRequestMiB > resources.memoryLimitMiB) {
      fail(at('resources', 'memoryRequestMiB'), 'must not exceed memoryLimitMiB', resources.memoryRequestMiB);
    }
  });

  const { traffic } = model;
  const known = (path: Path, name: string) => {
    if (!names.includes(name)) {
      fail(path, `must name a version of this model (${names.join(', ')})`, name);
      return false;
    }
    return true;
  };
  if (traffic.weights) {
    const entries = Object.entries(traffic.weights);
    entries.forEach(([name]) => known(['traffic', 'weights', name], name));
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
    if (total !== 100) {
      fail(['traffic', 'weights'], `must sum to 100, not ${total}`, traffic.weights);
    }
    if ((traffic.weights[primary] ?? 0) === 0) {
      fail(['traffic', 'weights', primary], `must be above 0: ${primary}, the first version, is the primary, which the shadow copies and the fallback stands in for`, traffic.weights[primary]);
    }
  }
  for (const [path, name] of [
    [['traffic', 'shadow', 'version'], traffic.shadow?.version],
    [['traffic', 'fallback'], traffic.fallback],
  ] as [Path, string | undefined][]) {
    if (name !== undefined && known(path, name) && name === primary) {
      fail(path, `must not be ${primary}, the first version: it is the primary the ${path[1]} serves beside`, name);
    }
  }
  if (traffic.shadow && (traffic.weights?.[traffic.shadow.version] ?? 0) > 0) {
    fail(['traffic', 'weights', traffic.shadow.version], 'must be 0: a shadow version\'s answers are discarded, so no caller may be routed to it', traffic.weights?.[traffic.shadow.version]);
  }
  if (traffic.shadow && traffic.shadow.version === traffic.fallback) {
    fail(['traffic', 'fallback'], 'must differ from traffic.shadow.version: a fallback\'s answers reach callers, a shadow\'s never do', traffic.fallback);
  }

  model.versions.forEach((version, index) => {
    const serving = servingCapacity({ ...version, peakRequestsPerSecond: model.capacity.peakRequestsPerSecond * versionShare(model, version.name) });
    if (!serving.sufficient) {
      const round = (value: number) => Math.round(value * 100) / 100;
      fail(
        ['versions', index, 'autoscaling', 'maxReplicas'],
        `× podRequestsPerSecond ${version.podRequestsPerSecond} = ${round(serving.capacity)} req/s is below ${SERVING_HEADROOM} × this version's share of capacity.peakRequestsPerSecond ` +
          `(${round(serving.peak)} req/s) = ${round(serving.required)} req/s; raise maxReplicas to at least ${serving.minimumMaxReplicas} or measure podRequestsPerSecond again (npm run bench:serving)`,
        version.autoscaling.maxReplicas,
      );
    }
  });

  checkBatchRules(model, fail);
  checkTrainingRules(model, fail);
  checkDriftRules(model, fail);
}

/** The rules of a model's batch job: a schedule the CronJob controller and the missed-run alarm can both follow. */
function checkBatchRules(model: ModelSettings, fail: (path: Path, message: string, input: unknown) => void): void {
  const { batch } = model;
  if (!batch) {
    return;
  }
  checkDailySchedule('batch', batch, 'each run writes predictions/<model>/<date>/', fail);
  const resources = batchResources(model.versions[0], batch.resources);
  if (resources.cpuRequestMillicores > resources.cpuLimitMillicores) {
    fail(['batch', 'resources', 'cpuRequestMillicores'], `must not exceed the CPU limit (${resources.cpuLimitMillicores})`, resources.cpuRequestMillicores);
  }
  if (resources.memoryRequestMiB > resources.memoryLimitMiB) {
    fail(['batch', 'resources', 'memoryRequestMiB'], `must not exceed the memory limit (${resources.memoryLimitMiB})`, resources.memoryRequestMiB);
  }
}

/** The rules of a model's training job: a daily schedule, resources within their limits, a key only with an input. */
function checkTrainingRules(model: ModelSettings, fail: (path: Path, message: string, input: unknown) => void): void {
  const { training } = model;
  if (!training) {
    return;
  }
  checkDailySchedule('training', training, 'each run registers a new version for the promotion gate', fail);
  if (training.inputKmsKeyArn && !training.input) {
    fail(['training', 'inputKmsKeyArn'], 'must be set only with training.input: it is the key of the input files', training.inputKmsKeyArn);
  }
  const { resources } = training;
  if (resources.cpuRequestMillicores > resources.cpuLimitMillicores) {
    fail(['training', 'resources', 'cpuRequestMillicores'], `must not exceed the CPU limit (${resources.cpuLimitMillicores})`, resources.cpuRequestMillicores);
  }
  if (resources.memoryRequestMiB > resources.memoryLimitMiB) {
    fail(['training', 'resources', 'memoryRequestMiB'], `must not exceed the memory limit (${resources.memoryLimitMiB})`, resources.memoryRequestMiB);
  }
}

/** The rules of a model's drift report: a daily schedule, two different folders (when the reference is one), resources within their limits. */
function checkDriftRules(model: ModelSettings, fail: (path: Path, message: string, input: unknown) => void): void {
  const { drift } = model;
  if (!drift) {
    return;
  }
  checkDailySchedule('drift', drift, 'the report compares one day of data and the alarm reads one value a run', fail);
  const { reference } = drift;
  if (typeof reference === 'string' && (drift.current.startsWith(reference) || reference.startsWith(drift.current))) {
    fail(['drift', 'current'], `must not be the reference folder (${reference}), inside it or around it: the report would compare data with itself`, drift.current);
  }
  const { resources } = drift;
  if (resources.cpuRequestMillicores > resources.cpuLimitMillicores) {
    fail(['drift', 'resources', 'cpuRequestMillicores'], `must not exceed the CPU limit (${resources.cpuLimitMillicores})`, resources.cpuRequestMillicores);
  }
  if (resources.memoryRequestMiB > resources.memoryLimitMiB) {
    fail(['drift', 'resources', 'memoryRequestMiB'], `must not exceed the memory limit (${resources.memoryLimitMiB})`, resources.memoryRequestMiB);
  }
}

/**
 * The schedule rules of a model's daily job (`batch`, `training` or `drift`): a cron expression the CronJob
 * controller reads, at most one run a day, runs close enough for the missed-run alarm to watch,
 * and a timeout that ends a run before the next may start.
 */
function checkDailySchedule(
  field: 'batch' | 'training' | 'drift',
  job: { readonly schedule: string; readonly timeoutMinutes: number },
  oncePerDayReason: string,
  fail: (path: Path, message: string, input: unknown) => void,
): void {
  const at = (name: string) => [field, name];
  let days: ReturnType<typeof runDays>;
  try {
    const schedule = parseCron(job.schedule);
    if (schedule.minutes.size !== 1 || schedule.hours.size !== 1) {
      fail(at('schedule'), `must run at most once a day, at one minute of one hour (e.g. 30 5 * * *): ${oncePerDayReason}`, job.schedule);
      return;
    }
    days = runDays(schedule);
  } catch (error) {
    if (!(error instanceof CronError)) {
      throw error;
    }
    fail(at('schedule'), `must be a cron expression of 5 fields (minute hour day-of-month month day-of-week) as Kubernetes reads it, e.g. 30 5 * * 1-5: ${error.message}`, job.schedule);
    return;
  }
  if (!days) {
    fail(at('schedule'), 'must run on some day: these fields match no date, or one date in years', job.schedule);
    return;
  }
  const window = batchAlarmWindowHours(days.longestGapDays, job.timeoutMinutes);
  if (window > MAX_ALARM_WINDOW_HOURS) {
    fail(
      at('schedule'),
      `runs up to ${days.longestGapDays} days apart: with timeoutMinutes ${job.timeoutMinutes} the missed-run alarm would have to watch ${window} hours, ` +
        `and a CloudWatch alarm of hourly periods watches at most ${MAX_ALARM_WINDOW_HOURS}; run at least every 6 days, or shorten timeoutMinutes`,
      job.schedule,
    );
  }
  // One hour less for the day daylight saving time shortens.
  const shortestGapMinutes = days.shortestGapDays * 24 * 60 - 60;
  if (job.timeoutMinutes + BATCH_STARTING_DEADLINE_MINUTES > shortestGapMinutes) {
    fail(
      at('timeoutMinutes'),
      `must end a run before the next one may start: at most ${shortestGapMinutes - BATCH_STARTING_DEADLINE_MINUTES}, since runs start as little as ${days.shortestGapDays * 24} hours apart and up to ${BATCH_STARTING_DEADLINE_MINUTES} minutes late`,
      job.timeoutMinutes,
    );
  }
}

/** The rules of one environment that span its fields. */
export function checkCrossFieldRules(settings: EnvironmentSettings, ctx: z.RefinementCtx): void {
  const fail = (path: Path, message: string, input: unknown) => ctx.addIssue({ code: 'custom', path, message, input });
  // A rule comparing against a field that failed its own check would only repeat that problem.
  const valid = (field: string) => !ctx.issues.some((issue) => issue.path?.[0] === field);

  settings.availabilityZones.forEach((zone, index) => {
    if (!(zone.startsWith(settings.region) && /^[a-z]$/.test(zone.slice(settings.region.length)))) {
      fail(['availabilityZones', index], `must be a zone of region ${settings.region}, e.g. ${settings.region}a`, zone);
    }
    if (settings.availabilityZones.indexOf(zone) !== index) {
      fail(['availabilityZones', index], 'must not list a zone twice', zone);
    }
  });

  if (settings.network.natGateways > settings.availabilityZones.length) {
    fail(
      ['network', 'natGateways'],
      `must not exceed the number of availabilityZones (${settings.availabilityZones.length})`,
      settings.network.natGateways,
    );
  }

  const { vpcCidr, subnetMasks } = settings.network;
  if (isCanonicalIpv4Cidr(vpcCidr) && !subnetsFit(vpcCidr, settings.availabilityZones, subnetMasks)) {
    fail(
      ['network', 'subnetMasks'],
      `five subnets per availability zone of these sizes do not fit in network.vpcCidr ${vpcCidr}; use larger masks or a larger VPC`,
      subnetMasks,
    );
  }

  if (settings.network.podHttpsEgress === 'endpoints') {
    const missing = POD_API_ENDPOINTS.filter((name) => !settings.network.interfaceEndpoints.includes(name));
    if (missing.length > 0) {
      fail(
        ['network', 'interfaceEndpoints'],
        `must include ${missing.join(', ')} while network.podHttpsEgress is endpoints: pods reach AWS only through the endpoints; add them or set podHttpsEgress to anywhere`,
        settings.network.interfaceEndpoints,
      );
    }
  }

  const { allocatedStorageGiB, maxAllocatedStorageGiB, backupWindow, maintenanceWindow } = settings.database;
  if (maxAllocatedStorageGiB < Math.ceil(allocatedStorageGiB * 1.1)) {
    fail(
      ['database', 'maxAllocatedStorageGiB'],
      `must be at least 10% above allocatedStorageGiB (${Math.ceil(allocatedStorageGiB * 1.1)})`,
      maxAllocatedStorageGiB,
    );
  }
  if (backupWindow && maintenanceWindow && windowsOverlap(backupWindow, maintenanceWindow)) {
    fail(
      ['database', 'backupWindow'],
      `must not overlap database.maintenanceWindow (${maintenanceWindow}) on any day: RDS refuses overlapping windows; move one of them`,
      backupWindow,
    );
  }

  const certificate = settings.ingress.certificateArn ? ACM_CERTIFICATE_ARN.exec(settings.ingress.certificateArn)?.groups : undefined;
  if (certificate && valid('region') && certificate.region !== settings.region) {
    fail(
      ['ingress', 'certificateArn'],
      `must be a certificate of region ${settings.region}, not ${certificate.region}: a load balancer uses ACM certificates of its own region only; request or import one in ${settings.region}`,
      settings.ingress.certificateArn,
    );
  }
  if (certificate && valid('account') && certificate.account !== settings.account) {
    fail(
      ['ingress', 'certificateArn'],
      `must be a certificate of account ${settings.account}, not ${certificate.account}: a load balancer uses ACM certificates of its own account only; request or import one there`,
      settings.ingress.certificateArn,
    );
  }

  if (settings.environmentType === 'production') {
    if (settings.database.backupRetentionDays < 7) {
      fail(
        ['database', 'backupRetentionDays'],
        'must be at least 7 when environmentType is production',
        settings.database.backupRetentionDays,
      );
    }
    const logRetentions: [Path, number][] = [
      [['network', 'flowLogs', 'retentionDays'], settings.network.flowLogs.retentionDays],
      [['database', 'logRetentionDays'], settings.database.logRetentionDays],
      [['cluster', 'logRetentionDays'], settings.cluster.logRetentionDays],
      [['cluster', 'containerLogRetentionDays'], settings.cluster.containerLogRetentionDays],
    ];
    for (const [path, days] of logRetentions) {
      if (days < MIN_PRODUCTION_LOG_RETENTION_DAYS) {
        fail(path, `must be at least ${MIN_PRODUCTION_LOG_RETENTION_DAYS} when environmentType is production`, days);
      }
    }
    if (!settings.database.deletionProtection) {
      fail(
        ['database', 'deletionProtection'],
        'must be true when environmentType is production',
        settings.database.deletionProtection,
      );
    }
    if (settings.cluster.publicAccessCidrs.length > 0) {
      fail(
        ['cluster', 'publicAccessCidrs'],
        'must be empty when environmentType is production: the Kubernetes API stays private',
        settings.cluster.publicAccessCidrs,
      );
    }
    if (settings.network.podHttpsEgress !== 'endpoints') {
      fail(
        ['network', 'podHttpsEgress'],
        'must be endpoints when environmentType is production: pods reach AWS through the interface endpoints and nothing else',
        settings.network.podHttpsEgress,
      );
    }
    if (settings.mlflow.replicas < 2) {
      fail(['mlflow', 'replicas'], 'must be at least 2 when environmentType is production', settings.mlflow.replicas);
    }
    settings.teams.forEach((team, index) =>
      team.models.forEach((model, modelIndex) =>
        model.versions.forEach((version, versionIndex) => {
          if (version.autoscaling.workingHours) {
            fail(
              ['teams', index, 'models', modelIndex, 'versions', versionIndex, 'autoscaling', 'workingHours'],
              'is allowed only when environmentType is development: outside working hours the version has no pods, and the first request waits minutes for one',
              version.autoscaling.workingHours,
            );
          }
        }),
      ),
    );
    const subscribers = settings.alarms.emails.length + (settings.alarms.httpsEndpoint ? 1 : 0);
    if (subscribers === 0 && settings.teams.some((team) => team.models.length > 0)) {
      fail(['alarms', 'emails'], 'must list at least one address (or set alarms.httpsEndpoint) when environmentType is production and a team has a model: SLO alarms must reach someone', settings.alarms.emails);
    }
    if (!settings.ingress.certificateArn) {
      fail(
        ['ingress', 'certificateArn'],
        'is required when environmentType is production: MLflow passwords must not cross the network in clear text',
        settings.ingress.certificateArn,
      );
    }
  }

  settings.gpuPools.forEach((pool, index) => {
    if (settings.gpuPools.findIndex((other) => other.name === pool.name) !== index) {
      fail(['gpuPools', index, 'name'], 'must be unique among gpuPools', pool.name);
    }
    if (pool.name === GENERAL_NODE_POOL) {
      fail(['gpuPools', index, 'name'], `must not be ${GENERAL_NODE_POOL}, the CPU pool's name`, pool.name);
    }
  });

  settings.teams.forEach((team, index) => {
    if (settings.teams.findIndex((other) => other.name === team.name) !== index) {
      fail(['teams', index, 'name'], 'must be unique among teams', team.name);
    }
    if (RESERVED_NAMESPACES.includes(team.name) || team.name.startsWith('kube-')) {
      fail(['teams', index, 'name'], `must not be a namespace the platform or Kubernetes uses (${RESERVED_NAMESPACES.join(', ')}, kube-*)`, team.name);
    }
    team.models.forEach((model, modelIndex) =>
      model.versions.forEach((version, versionIndex) => {
        if (!version.gpu) {
          return;
        }
        const path = ['teams', index, 'models', modelIndex, 'versions', versionIndex, 'gpu'];
        const pool = settings.gpuPools.find((candidate) => candidate.name === version.gpu?.pool);
        if (!pool) {
          const names = settings.gpuPools.map((candidate) => candidate.name);
          fail([...path, 'pool'], `must name a pool in gpuPools (${names.length > 0 ? names.join(', ') : 'none defined'})`, version.gpu.pool);
        } else if ((version.autoscaling.maxReplicas + 1) * version.gpu.count > pool.gpuLimit) {
          fail(
            [...path, 'count'],
            `times autoscaling.maxReplicas plus the rolling-update pod (${version.autoscaling.maxReplicas + 1}) must not exceed the gpuLimit of pool ${pool.name} (${pool.gpuLimit})`,
            version.gpu.count,
          );
        }
      }),
    );
    team.models.forEach((model, modelIndex) => {
      const { training } = model;
      if (!training) {
        return;
      }
      const path = ['teams', index, 'models', modelIndex, 'training'];
      // MLflow gives the creator of an experiment MANAGE; the user sync grants the team user MANAGE on `<team>/...` ones.
      if (!training.experiment.startsWith(`${team.name}/`) || training.experiment.length === team.name.length + 1) {
        fail([...path, 'experiment'], `must start with the team's name, ${team.name}/, e.g. ${team.name}/${model.name}: the team's MLflow user manages only experiments named so`, training.experiment);
      }
      if (training.gpu) {
        const pool = settings.gpuPools.find((candidate) => candidate.name === training.gpu?.pool);
        if (!pool) {
          const names = settings.gpuPools.map((candidate) => candidate.name);
          fail([...path, 'gpu', 'pool'], `must name a pool in gpuPools (${names.length > 0 ? names.join(', ') : 'none defined'})`, training.gpu.pool);
        } else if (training.gpu.count > pool.gpuLimit) {
          fail([...path, 'gpu', 'count'], `must not exceed the gpuLimit of pool ${pool.name} (${pool.gpuLimit})`, training.gpu.count);
        }
      }
    });
  });

  // Rounded up to a hundredth, after rounding to a millionth so that 6.300000000000001 reads 6.3.
  const hundredths = (value: number) => Math.ceil(Math.round(value * 1e6) / 1e4) / 100;
  for (const line of capacityLines(settings)) {
    if (line.peak > line.limit) {
      const parts = line.parts.map((part) => `${part.name} ${hundredths(part.peak)} (${part.counts})`).join(', ');
      fail(line.path, `must cover what ${line.subject} needs at peak (${hundredths(line.peak)}): ${parts}`, line.limit);
    }
  }

  const principals = [
    ...settings.cluster.admins.map((arn, index) => ({ arn, path: ['cluster', 'admins', index] })),
    ...settings.teams.flatMap((team, teamIndex) =>
      (['admins', 'members'] as const).flatMap((role) =>
        team[role].map((arn, index) => ({ arn, path: ['teams', teamIndex, role, index] })),
      ),
    ),
  ];
  principals.forEach((principal, index) => {
    if (principals.findIndex((other) => other.arn === principal.arn) !== index) {
      fail(principal.path, 'must appear once among cluster.admins and the teams\' admins and members (each principal has one EKS access entry)', principal.arn);
    }
  });

  const hostnames = settings.teams.flatMap((team, teamIndex) =>
    team.models.map((model, modelIndex) => ({
      hostname: modelHostname(settings, model),
      path: ['teams', teamIndex, 'models', modelIndex, 'exposure', 'hostname'],
    })),
  );
  hostnames.forEach((entry, index) => {
    const taken = hostnames.findIndex((other) => other.hostname === entry.hostname) !== index || entry.hostname === settings.mlflow.hostname;
    if (taken) {
      fail(entry.path, 'must be unique: another model or MLflow already answers at this host name', entry.hostname);
    }
  });

  const { dns } = settings;
  if (dns && valid('dns')) {
    // CDK would silently append the zone to a record name outside it (churn.other.internal.<zone>).
    const inZone = (host: string) => host === dns.zoneName || host.endsWith(`.${dns.zoneName}`);
    const notInZone = (hosts: string[]) => `${hosts.join(', ')} ${hosts.length === 1 ? 'is' : 'are'} not in zone ${dns.zoneName}, the only zone the platform writes records to`;
    if (valid('mlflow') && !inZone(settings.mlflow.hostname)) {
      fail(['mlflow', 'hostname'], `must be inside dns.zoneName: ${notInZone([settings.mlflow.hostname])}`, settings.mlflow.hostname);
    }
    if (valid('teams') && valid('ingress')) {
      const models = settings.teams.flatMap((team, teamIndex) => team.models.map((model, modelIndex) => ({ model, path: ['teams', teamIndex, 'models', modelIndex, 'exposure', 'hostname'] })));
      for (const { model, path } of models) {
        const own = model.exposure.hostname;
        if (own && !inZone(own)) {
          fail(path, `must be inside dns.zoneName: ${notInZone([own])}`, own);
        }
      }
      // Hosts named <model>.<servingDomain> are reported once, at the domain they come from.
      const outside = models.filter(({ model }) => !model.exposure.hostname).map(({ model }) => modelHostname(settings, model)).filter((host) => !inZone(host));
      if (settings.ingress.servingDomain && outside.length > 0) {
        fail(['ingress', 'servingDomain'], `must put every model host inside dns.zoneName: ${notInZone(outside)}`, settings.ingress.servingDomain);
      }
    }
    if (valid('ingress') && settings.ingress.scheme === 'internet-facing' && !dns.hostedZoneId) {
      fail(
        ['dns', 'hostedZoneId'],
        'is required when ingress.scheme is internet-facing: a private zone answers inside the VPC only, while an internet-facing load balancer serves callers outside it; give the ID of the public zone they resolve',
        dns.hostedZoneId,
      );
    }
  }

  const hasModels = settings.teams.some((team) => team.models.length > 0);
  if (hasModels && !settings.ingress.servingDomain) {
    fail(['ingress', 'servingDomain'], 'is required once a team has models: each is served at <model>.<servingDomain>', undefined);
  }
  const models = settings.teams.flatMap((team, teamIndex) =>
    team.models.map((model, modelIndex) => ({ name: model.name, path: ['teams', teamIndex, 'models', modelIndex, 'name'] })),
  );
  models.forEach((model, index) => {
    if (models.findIndex((other) => other.name === model.name) !== index) {
      fail(model.path, 'must be unique among all models of the environment (it names an ECR repository)', model.name);
    }
  });
  // One load balancer serves MLflow and every version, each in a target group of its own.
  const targetGroups = 1 + settings.teams.reduce((sum, team) => sum + team.models.reduce((count, model) => count + model.versions.length, 0), 0);
  if (targetGroups > MAX_TARGET_GROUPS_PER_LOAD_BALANCER) {
    fail(
      ['teams'],
      `must serve at most ${MAX_TARGET_GROUPS_PER_LOAD_BALANCER - 1} model versions in all: MLflow and each version take one target group of the shared load balancer, which takes at most ${MAX_TARGET_GROUPS_PER_LOAD_BALANCER} (not adjustable); these take ${targetGroups}`,
      targetGroups,
    );
  }

  // Versions' objects and alarms are named <model>-<version>, and a router <model>-router.
  const objectNames = settings.teams.flatMap((team, teamIndex) =>
    team.models.flatMap((model, modelIndex) => [
      ...model.versions.map((version, versionIndex) => ({
        name: `${model.name}-${version.name}`,
        path: ['teams', teamIndex, 'models', modelIndex, 'versions', versionIndex, 'name'],
      })),
      { name: `${model.name}-router`, path: ['teams', teamIndex, 'models', modelIndex, 'name'] },
    ]),
  );
  objectNames.forEach((entry, index) => {
    const first = objectNames.findIndex((other) => other.name === entry.name);
    if (first !== index) {
      fail(entry.path, `must not make ${entry.name} again: versions and routers are named <model>-<version> and <model>-router, and another model's already is`, entry.name);
    }
  });
  // A batch, training or drift job's service account and Pod Identity association are <model>-batch, <model>-training or <model>-drift, beside each model's own, <model>.
  settings.teams.forEach((team, teamIndex) =>
    team.models.forEach((model, modelIndex) => {
      if (model.batch && models.some((other) => other.name === `${model.name}-batch`)) {
        fail(['teams', teamIndex, 'models', modelIndex, 'batch'], `must not be set while a model is named ${model.name}-batch: the batch job's service account takes that name`, model.batch);
      }
      if (model.training && models.some((other) => other.name === `${model.name}-training`)) {
        fail(['teams', teamIndex, 'models', modelIndex, 'training'], `must not be set while a model is named ${model.name}-training: the training job's service account takes that name`, model.training);
      }
      if (model.drift && models.some((other) => other.name === `${model.name}-drift`)) {
        fail(['teams', teamIndex, 'models', modelIndex, 'drift'], `must not be set while a model is named ${model.name}-drift: the drift job's service account takes that name`, model.drift);
      }
    }),
  );
}
