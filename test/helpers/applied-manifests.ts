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
function manifestText(logicalId: string, manifest: unknown, render: DeployTimeRenderer): string {
  if (typeof manifest === 'string') {
    return manifest;
  }
  const join = isRecord(manifest) ? manifest['Fn::Join'] : undefined;
  if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
    const parts: unknown[] = join[1];
    return parts.map((part) => (typeof part === 'string' ? part : render(part))).join(join[0]);
  }
  throw new Error(`${logicalId}: Manifest is neither a JSON string nor an Fn::Join: ${JSON.stringify(manifest)}`);
}

/** The objects in a Manifest property, deploy-time values replaced by what `render` makes of them. */
function manifestObjects(logicalId: string, manifest: unknown, render: DeployTimeRenderer): unknown[] {
  const text = manifestText(logicalId, manifest, render);
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

/** What a deploy-time value (an intrinsic function) becomes in the manifest text; it lands inside a JSON string. */
export type DeployTimeRenderer = (intrinsic: unknown) => string;

/** Renders `{ Ref: id }` as `ref:<id>`, so a test can tell which resource a manifest names. */
export const renderRefs: DeployTimeRenderer = (intrinsic) =>
  isRecord(intrinsic) && typeof intrinsic.Ref === 'string' ? `ref:${intrinsic.Ref}` : DEPLOY_TIME_VALUE;

/**
 * Every Kubernetes object a synthesized template applies to its cluster, in template order, each
 * deploy-time value replaced by DEPLOY_TIME_VALUE unless `render` says otherwise.
 */
export function appliedManifests(template: Record<string, unknown>, render: DeployTimeRenderer = () => DEPLOY_TIME_VALUE): AppliedManifest[] {
  const resources = isRecord(template.Resources) ? template.Resources : {};
  return Object.entries(resources).flatMap(([logicalId, resource]) => {
    if (!isRecord(resource) || resource.Type !== KUBERNETES_RESOURCE_TYPE) {
      return [];
    }
    const properties = isRecord(resource.Properties) ? resource.Properties : {};
    return manifestObjects(logicalId, properties.Manifest, render).map((object) => ({ logicalId, object }));
  });
}

/** Every Kubernetes object a stack applies to its cluster. */
export function appliedManifestsOf(stack: Stack): AppliedManifest[] {
  return appliedManifests(Template.fromStack(stack).toJSON());
}
