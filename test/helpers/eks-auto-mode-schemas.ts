import type { SchemaObject } from 'ajv';
import { DEPLOY_TIME_VALUE } from './applied-manifests';

/**
 * JSON schemas for the EKS Auto Mode custom resources the app may apply, which no
 * kubernetes-models package covers. AWS publishes no schema package for them: these follow the
 * custom resource definitions an Auto Mode cluster serves and the EKS user guide ("Create a Node
 * Class for Amazon EKS", the Auto Mode release notes; for TargetGroupBinding,
 * docs/design/traffic-facts.md §1.3). Every object rejects fields it does not list, so a misspelt or
 * invented field fails here rather than being dropped or refused by the cluster at deploy time.
 * Auto Mode adds NodeClass fields now and then: add a field here once the user guide documents it.
 */

/**
 * A value as `schema` describes it, or the placeholder for one CloudFormation fills in at deploy
 * time: a subnet ID, ARN or CIDR block often comes from a Ref or GetAtt.
 */
function orDeployTimeValue(schema: SchemaObject): SchemaObject {
  return { anyOf: [schema, { const: DEPLOY_TIME_VALUE }] };
}

/** An AWS resource ID such as subnet-0123456789abcdef0. */
function awsId(prefix: string): SchemaObject {
  return orDeployTimeValue({ type: 'string', pattern: `^${prefix}-[0-9a-z]+$` });
}

const stringMap: SchemaObject = { type: 'object', additionalProperties: { type: 'string' } };

/** Metadata of a cluster-scoped resource, where a namespace is a mistake. */
const clusterScopedMetadata: SchemaObject = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' },
    namespace: false,
    labels: stringMap,
    annotations: stringMap,
  },
};

/** Metadata of a namespaced resource, which names its namespace rather than fall into `default`. */
const namespacedMetadata: SchemaObject = {
  ...clusterScopedMetadata,
  required: ['name', 'namespace'],
  properties: {
    ...clusterScopedMetadata.properties,
    namespace: { type: 'string', minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
  },
};

/** An object of one kind: apiVersion and kind fixed, its spec as `spec` describes it; cluster-scoped unless `namespaced`. */
function customResource(kind: string, spec: SchemaObject, options: { specRequired: boolean; namespaced?: boolean }): SchemaObject {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['apiVersion', 'kind', 'metadata', ...(options.specRequired ? ['spec'] : [])],
    properties: {
      apiVersion: { const: 'eks.amazonaws.com/v1' },
      kind: { const: kind },
      metadata: options.namespaced ? namespacedMetadata : clusterScopedMetadata,
      spec,
    },
  };
}

/** EC2 tags to select by: at most 20, none empty, as the custom resource definition requires. */
const selectorTags: SchemaObject = {
  type: 'object',
  minProperties: 1,
  maxProperties: 20,
  propertyNames: { type: 'string', minLength: 1 },
  additionalProperties: { type: 'string', minLength: 1 },
};

/**
 * A list of selector terms, ORed. A term's fields are ANDed, except that each field named in
 * `alone` (such as `id`) must be the only field of its term.
 */
function selectorTerms(fields: Record<string, SchemaObject>, alone: string[]): SchemaObject {
  return {
    type: 'array',
    minItems: 1,
    maxItems: 30,
    items: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: fields,
      allOf: alone.map((field) => ({ if: { required: [field] }, then: { maxProperties: 1 } })),
    },
  };
}

const subnetTerms = selectorTerms({ id: awsId('subnet'), tags: selectorTags }, ['id']);

const securityGroupTerms = selectorTerms(
  { id: awsId('sg'), name: { type: 'string', minLength: 1 }, tags: selectorTags },
  ['id', 'name'],
);

/** Tag keys Auto Mode sets itself and refuses on a NodeClass. */
const RESERVED_NODE_TAG_KEYS = [
  'karpenter.sh/provisioner-name',
  'karpenter.sh/nodepool',
  'karpenter.sh/nodeclaim',
  'karpenter.sh/managed-by',
  'eks.amazonaws.com/nodeclass',
];

export const NODE_CLASS_SCHEMA = customResource(
  'NodeClass',
  {
    type: 'object',
    additionalProperties: false,
    required: ['subnetSelectorTerms', 'securityGroupSelectorTerms'],
    // Nodes get an IAM identity from exactly one of these.
    oneOf: [{ required: ['role'] }, { required: ['instanceProfile'] }],
    // Pods in their own subnets need security groups of their own there.
    dependencies: { podSubnetSelectorTerms: ['podSecurityGroupSelectorTerms'] },
    properties: {
      role: { type: 'string', minLength: 1, maxLength: 64 },
      instanceProfile: { type: 'string', minLength: 1 },
      subnetSelectorTerms: subnetTerms,
      securityGroupSelectorTerms: securityGroupTerms,
      podSubnetSelectorTerms: subnetTerms,
      podSecurityGroupSelectorTerms: selectorTerms({ id: awsId('sg'), tags: selectorTags }, ['id']),
      capacityReservationSelectorTerms: selectorTerms(
        {
          id: awsId('cr'),
          tags: selectorTags,
          owner: orDeployTimeValue({ type: 'string', pattern: '^[0-9]{12}$' }),
        },
        ['id'],
      ),
      snatPolicy: { enum: ['Random', 'Disabled'] },
      networkPolicy: { enum: ['DefaultAllow', 'DefaultDeny'] },
      networkPolicyEventLogs: { enum: ['Enabled', 'Disabled'] },
      ephemeralStorage: {
        type: 'object',
        additionalProperties: false,
        properties: {
          // Whole Gi, G, Ti or T; the ceilings (59000Gi, 64000G, 58Ti, 64T) are left to the cluster.
          size: { type: 'string', pattern: '^[1-9][0-9]{0,4}(Gi|G|Ti|T)$' },
          iops: { type: 'integer', minimum: 3000, maximum: 16000 },
          throughput: { type: 'integer', minimum: 125, maximum: 1000 },
          kmsKeyID: { type: 'string', minLength: 1 },
        },
      },
      advancedNetworking: {
        type: 'object',
        additionalProperties: false,
        properties: {
          httpsProxy: { type: 'string', maxLength: 255 },
          noProxy: { type: 'array', maxItems: 50, items: { type: 'string', maxLength: 255 } },
          associatePublicIPAddress: { type: 'boolean' },
          // Auto is prefix delegation (/28) falling back to single addresses; "32" is single addresses only.
          ipv4PrefixSize: { enum: ['Auto', '32'] },
        },
      },
      advancedSecurity: {
        type: 'object',
        additionalProperties: false,
        properties: {
          fips: { type: 'boolean' },
          kernelLockdown: { enum: ['integrity', 'none'] },
        },
      },
      certificateBundles: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'data'],
          properties: { name: { type: 'string', minLength: 1 }, data: { type: 'string', minLength: 1 } },
        },
      },
      tags: {
        ...stringMap,
        propertyNames: {
          type: 'string',
          minLength: 1,
          not: { anyOf: [{ type: 'string', pattern: '^kubernetes\\.io/cluster/' }, { enum: RESERVED_NODE_TAG_KEYS }] },
        },
      },
    },
  },
  { specRequired: true },
);

/**
 * Auto Mode's TargetGroupBinding. Its schema is unpublished: these are the fields AWS documents for
 * Auto Mode (docs/design/traffic-facts.md §1.3). The group only by ARN (Auto Mode refuses
 * `targetGroupName`), `targetType` required (upstream infers it); the upstream fields with no
 * Auto Mode source (`networking`, `nodeSelector`, `vpcID`, `ipAddressType`…) are refused.
 */
export const TARGET_GROUP_BINDING_SCHEMA = customResource(
  'TargetGroupBinding',
  {
    type: 'object',
    additionalProperties: false,
    required: ['targetGroupARN', 'targetType', 'serviceRef'],
    properties: {
      targetGroupARN: orDeployTimeValue({
        type: 'string',
        pattern: '^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]+$',
      }),
      targetType: { enum: ['instance', 'ip'] },
      serviceRef: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'port'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 63, pattern: '^[a-z]([-a-z0-9]*[a-z0-9])?$' },
          // A port number or a port name (IntOrString), as in the Service.
          port: {
            anyOf: [
              { type: 'integer', minimum: 1, maximum: 65535 },
              { type: 'string', minLength: 1, maxLength: 15, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
            ],
          },
        },
      },
      multiClusterTargetGroup: { type: 'boolean' },
    },
  },
  { specRequired: true, namespaced: true },
);
