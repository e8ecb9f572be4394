import { Model } from '@kubernetes-models/base';
import { formats } from '@kubernetes-models/validate';
import { Ajv, ValidationError, type ErrorObject, type ValidateFunction } from 'ajv';
import { NODE_CLASS_SCHEMA, TARGET_GROUP_BINDING_SCHEMA } from './eks-auto-mode-schemas';

/** The fields every Kubernetes object has; the rest is for its kind's schema to judge. */
export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  [field: string]: unknown;
}

type ModelClass = { new (data: object): Model<unknown>; apiVersion: string; kind: string };

function isModelClass(value: unknown): value is ModelClass {
  return (
    typeof value === 'function' &&
    value.prototype instanceof Model &&
    'apiVersion' in value &&
    typeof value.apiVersion === 'string' &&
    'kind' in value &&
    typeof value.kind === 'string'
  );
}

function typeKey(apiVersion: string, kind: string): string {
  return `${apiVersion} ${kind}`;
}

/**
 * Where the model class of a kind lives: kubernetes-models keeps each kind in a module of its own,
 * `<group>/<version>/<Kind>` (`<version>/<Kind>` for the core group), and so does
 * @kubernetes-models/karpenter, of which only karpenter.sh/v1 is taken: EKS Auto Mode serves
 * NodePool and NodeClaim but not karpenter.k8s.aws's EC2NodeClass; and @kubernetes-models/keda,
 * for keda.sh (KEDA 2.19's types: its ScaledObject fields are those of 2.20). kubernetes-models also keeps
 * API versions that later Kubernetes releases removed (such as extensions/v1beta1), so passing
 * here does not prove the cluster still serves an apiVersion.
 */
function modelModule(apiVersion: string, kind: string): string | undefined {
  const match = /^(?:([a-z0-9.-]+)\/)?(v[0-9]+(?:(?:alpha|beta)[0-9]+)?)$/.exec(apiVersion);
  if (!match || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) {
    return undefined;
  }
  const [, group, version] = match;
  if (group === 'karpenter.sh') {
    return version === 'v1' ? `@kubernetes-models/karpenter/karpenter.sh/v1/${kind}` : undefined;
  }
  if (group === 'keda.sh') {
    return `@kubernetes-models/keda/keda.sh/${version}/${kind}`;
  }
  return group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/${version}/${kind}`;
}

const models = new Map<string, ModelClass | undefined>();

/**
 * The model class of a kind with a published schema. Loaded on first use: the packages hold
 * about 2,000 modules, and loading them all took seconds in each test file that validates.
 */
function modelOf(apiVersion: string, kind: string): ModelClass | undefined {
  const key = typeKey(apiVersion, kind);
  if (!models.has(key)) {
    const request = modelModule(apiVersion, kind);
    let exported: unknown;
    try {
      exported = request ? (require(request) as Record<string, unknown>)[kind] : undefined;
    } catch (error) {
      if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND') {
        throw error;
      }
    }
    const model = isModelClass(exported) && exported.apiVersion === apiVersion && exported.kind === kind ? exported : undefined;
    models.set(key, model);
  }
  return models.get(key);
}

const ajv = new Ajv({ allErrors: true, formats });

/** The kinds no package publishes a schema for, with the schemas written for them here. */
const EXTRA_SCHEMAS = new Map<string, ValidateFunction>([
  [typeKey('eks.amazonaws.com/v1', 'NodeClass'), ajv.compile(NODE_CLASS_SCHEMA)],
  [typeKey('eks.amazonaws.com/v1', 'TargetGroupBinding'), ajv.compile(TARGET_GROUP_BINDING_SCHEMA)],
]);

/** `kind/namespace/name`, or `kind/name` for an object without a namespace. */
function objectName(object: KubernetesObject): string {
  const metadata: Record<string, unknown> = typeof object.metadata === 'object' && object.metadata !== null ? { ...object.metadata } : {};
  return [object.kind, metadata.namespace, metadata.name ?? '(no name)']
    .filter((part) => part !== undefined)
    .map(String)
    .join('/');
}

/** One line per failure: where in the object, what is wrong, and the schema's particulars (the allowed values, the unknown field…). */
function describeErrors(errors: Partial<ErrorObject>[]): string {
  return errors.map((error) => `  ${error.instancePath || '/'} ${error.message ?? error.keyword} ${JSON.stringify(error.params)}`).join('\n');
}

function isKubernetesObject(value: unknown): value is KubernetesObject {
  return (
    typeof value === 'object' &&
    value !== null &&
    'apiVersion' in value &&
    typeof value.apiVersion === 'string' &&
    'kind' in value &&
    typeof value.kind === 'string'
  );
}

/** The schema errors of one object; empty when it is valid. Throws for an object of a kind with no schema. */
function schemaErrors(object: KubernetesObject): Partial<ErrorObject>[] {
  const key = typeKey(object.apiVersion, object.kind);
  const extraSchema = EXTRA_SCHEMAS.get(key);
  if (extraSchema) {
    return extraSchema(object) ? [] : (extraSchema.errors ?? []);
  }
  const model = modelOf(object.apiVersion, object.kind);
  if (!model) {
    throw new Error(`${objectName(object)}: no schema for ${object.apiVersion} ${object.kind}; add one to EXTRA_SCHEMAS in test/helpers/kubernetes-schema.ts`);
  }
  try {
    new model(object).validate();
    return [];
  } catch (error) {
    if (error instanceof ValidationError) {
      return error.errors;
    }
    throw error;
  }
}

/**
 * Checks an object against its kind's schema, offline: kubernetes-models for Kubernetes itself,
 * @kubernetes-models/karpenter for karpenter.sh, @kubernetes-models/keda for keda.sh, and EXTRA_SCHEMAS for the EKS Auto Mode custom
 * resources. Throws an error naming the object and each failing path. A kind with no schema
 * fails too, so nothing goes unchecked by omission.
 *
 * The Kubernetes and Karpenter schemas check types, required fields, enums and ranges, but as
 * published they let unknown fields through, which the API server refuses at deploy time; only
 * the extra schemas reject unknown fields here.
 */
export function validateKubernetesObject(object: unknown): asserts object is KubernetesObject {
  if (!isKubernetesObject(object)) {
    throw new Error(`not a Kubernetes object (no string apiVersion and kind): ${JSON.stringify(object)}`);
  }
  const errors = schemaErrors(object);
  if (errors.length > 0) {
    throw new Error(`${objectName(object)} (${object.apiVersion}) does not match its schema:\n${describeErrors(errors)}`);
  }
}

/** Checks every object, then throws one error that lists every object that failed. */
export function validateKubernetesObjects(objects: readonly unknown[]): void {
  const failures: string[] = [];
  for (const object of objects) {
    try {
      validateKubernetesObject(object);
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
    }
  }
  if (failures.length > 0) {
    throw new Error(`${failures.length} of ${objects.length} Kubernetes objects fail validation:\n${failures.join('\n')}`);
  }
}
