import { Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from '../compliance';

/** Properties of a {@link PodIdentityRole}. */
export interface PodIdentityRoleProps {
  /** Cluster whose pods assume the role. */
  readonly cluster: eks.ICluster;
  /** Namespace of the service account. */
  readonly namespace: string;
  /** Name of the service account whose pods get the role. */
  readonly serviceAccount: string;
  /** What the role is for, shown in IAM. */
  readonly description: string;
  /** Whether to associate the role with the service account; an EKS add-on given the role associates it itself. @default true */
  readonly createAssociation?: boolean;
}

/**
 * An IAM role that exactly one Kubernetes service account assumes through EKS Pod Identity.
 * The service account itself is a Kubernetes object, created by the chart that runs the pods;
 * that chart's manifest must depend on this construct (role, policies and association), because
 * EKS gives a pod credentials only if its association exists when the pod is admitted.
 */
export class PodIdentityRole extends Construct {
  /** The role; grant it what the pods need and nothing more. */
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: PodIdentityRoleProps) {
    super(scope, id);
    const { cluster } = props;
    this.role = new iam.Role(this, 'Resource', {
      description: props.description,
      // Pod Identity's documented trust, narrowed by the session tags it adds when it assumes the
      // role (docs: "Create IAM role with trust policy required by EKS Pod Identity"), so only
      // this service account in this namespace of this cluster can use the role, whatever other
      // association in the account names it.
      assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': cluster.stack.account,
            'aws:RequestTag/kubernetes-namespace': props.namespace,
            'aws:RequestTag/kubernetes-service-account': props.serviceAccount,
          },
          ArnEquals: { 'aws:RequestTag/eks-cluster-arn': cluster.clusterArn },
        },
      }).withSessionTags(),
    });
    if (props.createAssociation ?? true) {
      new eks.CfnPodIdentityAssociation(this, 'Association', {
        clusterName: cluster.clusterName,
        namespace: props.namespace,
        serviceAccount: props.serviceAccount,
        roleArn: this.role.roleArn,
      });
    }
  }

  /**
   * Lets the pods list and read the files of one S3 folder, `s3://<bucket>/<prefix>/`, and nothing
   * else of its bucket: `s3:ListBucket` on the bucket for keys under the prefix, `s3:GetObject` on
   * the objects under it. With `kmsKeyArn`, also decrypt with that key, through S3 only.
   */
  public grantFolderRead(folder: string, kmsKeyArn?: string): void {
    const [, bucket, prefix] = /^s3:\/\/([^/]+)\/(.*)$/.exec(folder) ?? [];
    if (!bucket || !prefix.endsWith('/')) {
      throw new Error(`${folder} is not an S3 folder such as s3://fraud-data/scoring/daily/`);
    }
    const { partition } = Stack.of(this);
    const objects = `arn:${partition}:s3:::${bucket}/${prefix}*`;
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [`arn:${partition}:s3:::${bucket}`],
        conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
      }),
    );
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [objects] }));
    acknowledgeWildcardResource(this, objects, `The files of the folder ${folder} only; their names are not known in advance.`);
    if (kmsKeyArn) {
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [kmsKeyArn],
          // The bucket may be in another region.
          conditions: { StringLike: { 'kms:ViaService': 's3.*.amazonaws.com' } },
        }),
      );
    }
  }

  /**
   * Lets the pods publish CloudWatch metrics to `namespace` and no other. `cloudwatch:PutMetricData`
   * has no resource-level permissions and IAM no condition key on a metric's dimensions, so the
   * namespace is all a policy can confine: give each publisher one of its own.
   */
  public grantMetricPublishing(namespace: string): void {
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': namespace } },
      }),
    );
    acknowledgeWildcardResource(this, '*', `cloudwatch:PutMetricData has no resource-level permissions; the role may publish to the ${namespace} namespace only.`);
  }

  /**
   * Lets the pods read `secrets`, encrypted with `key`, through statements on the role only.
   * `Secret.grantRead` would also edit the key policy, and for a key in another stack (the
   * database's) that would make that stack depend on this one.
   */
  public grantSecretsRead(secrets: secretsmanager.ISecret[], key: kms.IKey): void {
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: secrets.map((secret) => secret.secretArn),
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
  }
}
