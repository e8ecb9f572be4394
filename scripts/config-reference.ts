// Writes docs/config-reference.md, a table of every config field, from the schema itself so the
// reference cannot drift from what validation accepts. With --check it writes nothing and fails
// when the committed file differs, for CI.
// Usage: npm run docs:config [-- --check]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { z } from 'zod';
import { GENERAL_NODE_POOL } from '../lib/config/platform-names';
import { DEFAULT_ROUTER_REPLICAS, ROUTER_RESOURCES } from '../lib/config/router-sizing';
import { MLFLOW_CREDENTIALS_REQUESTS, TRAINING_PLATFORM_STEP_REQUESTS } from '../lib/config/scheduled-job-sizing';
import { environmentSchema } from '../lib/config/schema';

type JsonSchema = z.core.JSONSchema.JSONSchema;

const OUTPUT = path.join(__dirname, '..', 'docs', 'config-reference.md');

const OUT_OF_DATE = 'docs/config-reference.md is out of date: run npm run docs:config';

/**
 * What the schema checks across fields: `checkCrossFieldRules` and `checkModelRules` in
 * lib/config/rules.ts, with `capacityLines` from lib/config/capacity.ts, and what the loader
 * (lib/config/load.ts) checks across environments. JSON Schema cannot express these, so they are
 * written out here and must change with that code.
 */
const CROSS_FIELD_RULES = [
  'Every `availabilityZones` entry is a zone of `region` (the region code and one letter), listed once.',
  '`network.natGateways` is at most the number of `availabilityZones`.',
  'A public, a private, an isolated, a load-balancer and an endpoint subnet per zone, sized by `network.subnetMasks`, fit in `network.vpcCidr`.',
  'With `network.podHttpsEgress: endpoints`, `network.interfaceEndpoints` includes `s3`, `secretsManager` and `cloudWatchMetrics`.',
  '`database.maxAllocatedStorageGiB` is at least 10% above `database.allocatedStorageGiB`.',
  '`database.backupWindow` does not overlap `database.maintenanceWindow` on any day of the week.',
  '`ingress.certificateArn` is a certificate of `region` and `account`: a load balancer uses ACM certificates of its own region and account only.',
  'When `environmentType` is `production`: `database.backupRetentionDays` is at least 7; `network.flowLogs.retentionDays`, `database.logRetentionDays` and `cluster.logRetentionDays` are at least 365; `database.deletionProtection` is true; `cluster.publicAccessCidrs` is empty; `network.podHttpsEgress` is `endpoints`; `mlflow.replicas` is at least 2; `ingress.certificateArn` is set.',
  `\`gpuPools[].name\` is unique and not \`${GENERAL_NODE_POOL}\`, the CPU node pool's name.`,
  '`teams[].name` is unique and not `default`, `mlflow` or `kube-*`.',
  '`teams[].models[].name` is unique across all teams (it names an ECR repository).',
  "A model's version names are unique; each version sets exactly one of `alias` and `version`; its `autoscaling.minReplicas` is at most `autoscaling.maxReplicas`; its CPU and memory requests are at most their limits.",
  "`traffic.weights` name versions of the model and sum to 100, the first version's above 0; `traffic.shadow.version` and `traffic.fallback` name versions other than the first, and differ; a shadow version's weight is 0.",
  '`teams[].models[].versions[].gpu.pool` names an entry of `gpuPools`.',
  "`teams[].models[].batch`: `schedule` is a 5-field cron expression Kubernetes accepts (days of the week `0-6`) that runs at one minute of one hour, on days at most 6 days apart (the missed-run alarm watches at most 168 hours); `timeoutMinutes` plus the 15-minute starting deadline fits between the two closest runs; the resources, the first version's where left out, have requests at most their limits; no model is named `<model>-batch`.",
  `At peak, every version at \`autoscaling.maxReplicas\` plus one rolling-update pod, the router of each model with \`traffic.shadow\` or \`traffic.fallback\` at ${DEFAULT_ROUTER_REPLICAS} pods plus one (${ROUTER_RESOURCES.cpuRequestMillicores / 1000} vCPU and ${ROUTER_RESOURCES.memoryRequestMiB} MiB each), and one pod of each \`batch\`, \`training\` and \`drift\` job, all at once (schedules may coincide), at its largest step's requests (at least ${TRAINING_PLATFORM_STEP_REQUESTS.cpuRequestMillicores / 1000} vCPU and ${TRAINING_PLATFORM_STEP_REQUESTS.memoryRequestMiB} MiB for training, ${MLFLOW_CREDENTIALS_REQUESTS.cpuRequestMillicores / 1000} vCPU and ${MLFLOW_CREDENTIALS_REQUESTS.memoryRequestMiB} MiB for drift, the platform's own steps): each team's versions, routers and jobs fit its \`quota\`; the versions and jobs on each GPU pool (a GPU model's batch job, training with \`training.gpu\`) fit its \`gpuLimit\` and \`cpuLimit\`; the CPU versions, the routers, the other jobs and MLflow (\`mlflow.replicas\` + 1 pods) fit \`cluster.nodePool.cpuLimit\` and \`cluster.nodePool.memoryLimitGiB\`.`,
  "Each version's `autoscaling.maxReplicas × podRequestsPerSecond` is at least 1.3 × its share of `capacity.peakRequestsPerSecond`: its weight, plus the shadow's percentage of the first version's weight, plus the first version's whole weight for the fallback.",
  'When `environmentType` is `production` and a team has a model, `alarms` has at least one subscriber.',
  'All teams together serve at most 99 model versions: MLflow and each version take one of the shared load balancer\'s 100 target groups.',
  "An IAM principal appears once among `cluster.admins` and every team's `admins` and `members`.",
  '`ingress.servingDomain` is set once any team has a model.',
  'Each model host name (`exposure.hostname`, by default `<model>.<ingress.servingDomain>`) is unique and is not `mlflow.hostname`.',
  'With `dns`: `mlflow.hostname` and every model host name are `dns.zoneName` or inside it; `dns.hostedZoneId` is set when `ingress.scheme` is `internet-facing` (a private zone answers inside the VPC only).',
  'Across the files in `config/`: no two `network.vpcCidr` blocks overlap, and environments in the same account that set `ci` agree on `ci.createOidcProvider`.',
];

const INTRO = [
  '# Configuration reference',
  '',
  'Generated from the config schema, `lib/config/schema.ts`: do not edit this file; run `npm run docs:config` after changing the schema.',
  '',
  'Each environment is one YAML file in `config/`, named after the environment (`config/prod.yaml` is `prod`).',
  'A nested field is shown by its dotted path, a list entry by `[]` and any key of a map by `<key>`.',
  'An optional field may be left out; if it has a default, it takes that default.',
  "Besides each field's own constraints, validation checks [rules across fields](#rules-across-fields).",
  // Refinements leave no trace in JSON Schema, so the tables cannot show them.
  'A few checks of single values, such as a CIDR block being a network address or a log retention being a CloudWatch Logs period, are not in the tables: see `lib/config/schema.ts`.',
];

/**
 * JSON Schema keywords the tables show; any other would be dropped silently, so it stops the script.
 * `propertyNames` is let through because `z.record(z.string(), …)` uses it only to say keys are strings.
 */
const SHOWN_KEYWORDS = new Set([
  '$schema',
  'type',
  'description',
  'default',
  'enum',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'items',
  'minimum',
  'maximum',
  'format',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'pattern',
  'anyOf',
]);

/** One field's table row; cells are markdown, except `field` and `description`, which `table` formats. */
interface Row {
  readonly field: string;
  readonly type: string;
  readonly default: string;
  readonly constraints: string;
  readonly description: string;
}

/** The whole of docs/config-reference.md. */
export function renderConfigReference(): string {
  // `input` describes the file as written: fields with defaults are optional and show the default.
  const root = subschema(z.toJSONSchema(environmentSchema, { io: 'input' }), 'the schema');
  const fields = Object.entries(root.properties ?? {}).map(([name, value]) => ({
    name,
    schema: subschema(value, name),
    required: (root.required ?? []).includes(name),
  }));
  // An object, or a list of objects, gets a section of its own; the rest share the first.
  const isSection = (field: (typeof fields)[number]) =>
    field.schema.properties !== undefined || itemsOf(field.schema, field.name)?.properties !== undefined;
  const sections = [
    { title: 'Top-level fields', fields: fields.filter((field) => !isSection(field)) },
    ...fields.filter(isSection).map((field) => ({ title: field.name, fields: [field] })),
  ];
  return [
    ...INTRO,
    ...sections.flatMap((section) => [
      '',
      `## ${section.title}`,
      '',
      ...table(section.fields.flatMap((field) => fieldRows(field.name, field.schema, field.required))),
    ]),
    '',
    '## Rules across fields',
    '',
    ...CROSS_FIELD_RULES.map((rule) => `- ${rule}`),
    '',
  ].join('\n');
}

/** The message to show when `committed` is not what the current schema renders to. */
export function checkConfigReference(committed: string): string | undefined {
  return committed === renderConfigReference() ? undefined : OUT_OF_DATE;
}

/** The row of one field, then the rows of the fields inside it. */
function fieldRows(field: string, schema: JsonSchema, required: boolean): Row[] {
  const row = {
    field,
    type: typeName(schema, field),
    default: schema.default === undefined ? '' : code(yaml(schema.default)),
    constraints: [required ? 'required' : 'optional', ...constraints(schema, field)].join('; '),
    description: schema.description ?? '',
  };
  return [row, ...innerRows(field, schema)];
}

/** Rows for an object's fields, a map's values, the fields of a list's object entries and of an alternative that is an object. */
function innerRows(field: string, schema: JsonSchema): Row[] {
  const alternatives = alternativesOf(schema, field);
  if (alternatives) {
    return alternatives.flatMap((alternative) => innerRows(field, alternative));
  }
  const entry = itemsOf(schema, field);
  if (entry?.type === 'object') {
    return innerRows(`${field}[]`, entry);
  }
  const required = schema.required ?? [];
  const properties = Object.entries(schema.properties ?? {}).flatMap(([name, value]) =>
    fieldRows(`${field}.${name}`, subschema(value, `${field}.${name}`), required.includes(name)),
  );
  const values = valuesOf(schema, field);
  return values ? [...properties, ...fieldRows(`${field}.<key>`, { description: 'Value for any key', ...values }, false)] : properties;
}

function typeName(schema: JsonSchema, field: string): string {
  const alternatives = alternativesOf(schema, field);
  if (alternatives) {
    return alternatives.map((alternative) => typeName(alternative, field)).join(' or ');
  }
  if (schema.enum) {
    return schema.enum.map((value) => code(yaml(value))).join(' | ');
  }
  const entry = itemsOf(schema, field);
  if (entry) {
    return `array of ${typeName(entry, `${field}[]`)}`;
  }
  const values = valuesOf(schema, field);
  if (values) {
    return `map of ${typeName(values, field)}`;
  }
  if (typeof schema.type !== 'string') {
    throw new Error(`${field}: no single JSON Schema type to show`);
  }
  return schema.type;
}

function constraints(schema: JsonSchema, field: string): string[] {
  const alternatives = alternativesOf(schema, field);
  if (alternatives) {
    // Each alternative's own, named by its type; an object's fields have rows of their own.
    return alternatives.flatMap((alternative) => constraints(alternative, field).map((text) => `${typeName(alternative, field)}: ${text}`));
  }
  const entry = itemsOf(schema, field);
  const entryConstraints = entry && entry.type !== 'object' ? constraints(entry, `${field}[]`).map((text) => `each ${text}`) : [];
  return [
    range(schema.minimum, schema.maximum),
    prefixed('length', range(schema.minLength, schema.maxLength)),
    prefixed('length', range(schema.minItems, schema.maxItems)),
    prefixed('matches', schema.pattern === undefined ? undefined : code(schema.pattern)),
    prefixed('format', schema.format),
    ...entryConstraints,
  ].filter((text) => text !== undefined);
}

function range(min: number | undefined, max: number | undefined): string | undefined {
  // z.number().int() bounds values to safe integers; that is no limit a config author needs to see.
  const low = min === Number.MIN_SAFE_INTEGER ? undefined : min;
  const high = max === Number.MAX_SAFE_INTEGER ? undefined : max;
  if (low !== undefined && high !== undefined) {
    return `${low} to ${high}`;
  }
  if (low !== undefined) {
    return `at least ${low}`;
  }
  return high === undefined ? undefined : `at most ${high}`;
}

function prefixed(label: string, text: string | undefined): string | undefined {
  return text === undefined ? undefined : `${label} ${text}`;
}

/** A JSON Schema node, once it is known to use only keywords the tables show. */
function subschema(value: z.core.JSONSchema._JSONSchema, field: string): JsonSchema {
  if (typeof value === 'boolean') {
    throw new Error(`${field}: a boolean JSON Schema has no type to show`);
  }
  const unshown = Object.keys(value).filter((keyword) => !SHOWN_KEYWORDS.has(keyword));
  if (unshown.length > 0) {
    throw new Error(`${field}: scripts/config-reference.ts cannot show JSON Schema keyword ${unshown.join(', ')}`);
  }
  return value;
}

/** The alternatives of a field that takes one of several shapes (a union), e.g. text or a mapping. */
function alternativesOf(schema: JsonSchema, field: string): JsonSchema[] | undefined {
  return schema.anyOf?.map((alternative, index) => subschema(alternative, `${field} (alternative ${index + 1})`));
}

function itemsOf(schema: JsonSchema, field: string): JsonSchema | undefined {
  if (Array.isArray(schema.items)) {
    throw new Error(`${field}: tuples have no row format`);
  }
  return schema.items === undefined ? undefined : subschema(schema.items, `${field}[]`);
}

/** The schema of a map's values; strict objects have none. */
function valuesOf(schema: JsonSchema, field: string): JsonSchema | undefined {
  const values = schema.additionalProperties;
  return values === undefined || values === false ? undefined : subschema(values, `${field}.<key>`);
}

/** A value as a user writes it in YAML, so `"17"` keeps the quotes that make it a string. */
function yaml(value: unknown): string {
  return stringify(value, { collectionStyle: 'flow', flowCollectionPadding: false, lineWidth: 0 }).trim();
}

function code(text: string): string {
  return `\`${text}\``;
}

function table(rows: Row[]): string[] {
  return [
    '| Field | Type | Default | Constraints | Description |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((row) => {
      const cells = [code(row.field), row.type, row.default, row.constraints, escapeHtml(row.description)];
      return `| ${cells.map(escapePipes).join(' | ')} |`;
    }),
  ];
}

/** Descriptions such as `<model>.<servingDomain>` would otherwise vanish as unknown HTML tags. */
function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** A `|` would end the table cell, even inside a code span, unless escaped. */
function escapePipes(text: string): string {
  return text.replaceAll('|', '\\|');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  if (args.length > 1 || (args.length === 1 && args[0] !== '--check')) {
    console.error(`docs:config: unknown arguments '${args.join(' ')}', nothing written; usage: npm run docs:config [-- --check]`);
    process.exit(2);
  }
  if (args[0] === '--check') {
    const problem = checkConfigReference(fs.existsSync(OUTPUT) ? fs.readFileSync(OUTPUT, 'utf8') : '');
    if (problem) {
      console.error(problem);
      process.exit(1);
    }
  } else {
    fs.writeFileSync(OUTPUT, renderConfigReference());
  }
}
