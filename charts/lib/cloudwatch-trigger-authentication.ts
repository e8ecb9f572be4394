import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';

/** Kind of KEDA's cluster-wide trigger authentication, as a trigger's `authenticationRef.kind` names it. */
export const CLUSTER_TRIGGER_AUTHENTICATION_KIND = 'ClusterTriggerAuthentication';

/** Name of the platform's ClusterTriggerAuthentication for CloudWatch, which KEDA's construct applies. */
export const CLOUDWATCH_TRIGGER_AUTHENTICATION_NAME = 'aws-cloudwatch';

/** Properties of a {@link CloudWatchTriggerAuthentication}. */
export interface CloudWatchTriggerAuthenticationProps {
  /** Name of the ClusterTriggerAuthentication, which triggers name in `authenticationRef.name`. */
  readonly name: string;
}

/**
 * A KEDA ClusterTriggerAuthentication with which `aws-cloudwatch` triggers in any namespace call CloudWatch as
 * KEDA's operator. With `podIdentity.provider: aws`, no `roleArn` and `identityOwner: keda`, KEDA builds its AWS
 * client from the SDK's default credential chain in the operator's pod, which picks up the EKS Pod Identity
 * credentials of the operator's service account; nothing secret is stored in the cluster.
 */
export class CloudWatchTriggerAuthentication extends ApiObject {
  constructor(scope: Construct, id: string, props: CloudWatchTriggerAuthenticationProps) {
    super(scope, id, {
      apiVersion: 'keda.sh/v1alpha1',
      kind: CLUSTER_TRIGGER_AUTHENTICATION_KIND,
      metadata: { name: props.name },
      // `keda` is KEDA's default owner; stated because `workload` would look for an IRSA annotation instead.
      spec: { podIdentity: { provider: 'aws', identityOwner: 'keda' } },
    });
  }
}
