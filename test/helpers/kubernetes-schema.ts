import { Model } from '@kubernetes-models/base';
import * as karpenter from '@kubernetes-models/karpenter/karpenter.sh/v1';
import { formats } from '@kubernetes-models/validate';
import { Ajv, ValidationError, type ErrorObject, type ValidateFunction } from 'ajv';
import * as kubernetes from 'kubernetes-models';
import { INGRESS_CLASS_PARAMS_SCHEMA, NODE_CLASS_SCHEMA } from './eks-auto-mode-schemas';

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

/** The model classes exported anywhere under a module namespace: kubernetes-models nests them by group and version. */
function* modelClasses(namespace: object): Generator<ModelClass> {
  for (const value of Object.values(namespace)) {
    if (isModelClass(value)) {
      yield value;
    } else if (typeof value === 'object' && value !== null) {
      yield* modelClasses(value);
    }
  }
}

function typeKey(apiVersion: string, kind: string): string {
  return `${apiVersion} ${kind}`;
}

/**
 * Every kind with a published schema, by apiVersion and kind. Of Karpenter only karpenter.sh is
 * taken: EKS Auto Mode serves NodePool and NodeClaim but not karpenter.k8s.aws's EC2NodeClass.
 * kubernetes-models also keeps API versions that later Kubernetes releases removed (such as
 * extensions/v1beta1), so passing here does not prove the cluster still serves an apiVersion.
 */
const MODELS = new Map(
  [...modelClasses(kubernetes), ...modelClasses(karpenter)].map((model) => [typeKey(model.apiVersion, model.kind), model]),
);

const ajv = new Ajv({ allErrors: true, formats });

/** The kinds no package publishes a schema for, with the schemas written for them here. */
const EXTRA_SCHEMAS = new Map<string, ValidateFunction>([
  [typeKey('eks.amazonaws.com/v1', 'NodeClass'), ajv.compile(NODE_CLASS_SCHEMA)],
  [typeKey('eks.amazonaws.com/v1', 'IngressClassParams'), ajv.compile(INGRESS_CLASS_PARAMS_SCHEMA)],
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
  const model = MODELS.get(key);
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
 * @kubernetes-models/karpenter for karpenter.sh, and EXTRA_SCHEMAS for the EKS Auto Mode custom
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
