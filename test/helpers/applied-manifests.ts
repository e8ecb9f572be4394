import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

/** The custom resource through which aws-eks and aws-eks-v2 apply a KubernetesManifest. */
const KUBERNETES_RESOURCE_TYPE = 'Custom::AWSCDK-EKS-KubernetesResource';

/**
 * Stands in for a value CloudFormation fills in at deploy time (a Ref, a GetAtt, an import…). It
 * needs no escaping inside a JSON string and is a valid DNS label, so it passes wherever a name
 * or an ARN would.
 */
export const DEPLOY_TIME_VALUE = 'cfn-token';

/** One Kubernetes object a template applies, with the logical ID of the resource that applies it. */
export interface AppliedManifest {
  logicalId: string;
  /** As parsed from the template: not yet known to be a valid Kubernetes object. */
  object: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The Manifest property as JSON text. CDK writes it as a JSON string, or, when the manifest holds
 * deploy-time values, as an Fn::Join of JSON text and intrinsic functions.
 */
function manifestText(logicalId: string, manifest: unknown): string {
  if (typeof manifest === 'string') {
    return manifest;
  }
  const join = isRecord(manifest) ? manifest['Fn::Join'] : undefined;
  if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
    const parts: unknown[] = join[1];
    return parts.map((part) => (typeof part === 'string' ? part : DEPLOY_TIME_VALUE)).join(join[0]);
  }
  throw new Error(`${logicalId}: Manifest is neither a JSON string nor an Fn::Join: ${JSON.stringify(manifest)}`);
}

/** The objects in a Manifest property, deploy-time values replaced by DEPLOY_TIME_VALUE. */
function manifestObjects(logicalId: string, manifest: unknown): unknown[] {
  const text = manifestText(logicalId, manifest);
  let objects: unknown;
  try {
    objects = JSON.parse(text);
  } catch (error) {
    // A deploy-time value that stands for a whole number or list, not inside a string, ends up here.
    throw new Error(`${logicalId}: Manifest is not JSON once deploy-time values are replaced: ${text}`, { cause: error });
  }
  if (!Array.isArray(objects)) {
    throw new Error(`${logicalId}: Manifest is not a list of objects: ${text}`);
  }
  return objects;
}

/** Every Kubernetes object a synthesized template applies to its cluster, in template order. */
export function appliedManifests(template: Record<string, unknown>): AppliedManifest[] {
  const resources = isRecord(template.Resources) ? template.Resources : {};
  return Object.entries(resources).flatMap(([logicalId, resource]) => {
    if (!isRecord(resource) || resource.Type !== KUBERNETES_RESOURCE_TYPE) {
      return [];
    }
    const properties = isRecord(resource.Properties) ? resource.Properties : {};
    return manifestObjects(logicalId, properties.Manifest).map((object) => ({ logicalId, object }));
  });
}

/** Every Kubernetes object a stack applies to its cluster. */
export function appliedManifestsOf(stack: Stack): AppliedManifest[] {
  return appliedManifests(Template.fromStack(stack).toJSON());
}
