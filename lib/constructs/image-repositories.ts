import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Construct } from 'constructs';
import { EncryptionKey } from './encryption-key';

/** Properties of {@link ImageRepositories}. */
export interface ImageRepositoriesProps {
  /** Prefix of every repository name, e.g. `mlops/prod`. */
  readonly repositoryNamePrefix: string;
  /** Models that get a repository of their own. @default - none */
  readonly modelNames?: string[];
  /** Tagged images kept per repository. @default 50 */
  readonly maxImageCount?: number;
  /** Age at which untagged images expire. @default Duration.days(7) */
  readonly untaggedImageExpiry?: Duration;
  /** What happens to repositories and key when they leave the stack; DESTROY also deletes the images. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The platform's ECR repositories, one per model, all scanned on push, tag-immutable,
 * KMS-encrypted with one shared key, and pruned by lifecycle rules. The MLflow server image is a
 * CDK image asset and lives in the bootstrap's repository (docs/cluster.md, "Image").
 */
export class ImageRepositories extends Construct {
  /** Repository of each model's serving image, by model name. */
  public readonly models: Readonly<Record<string, ecr.Repository>>;
  /** Key encrypting every repository. */
  public readonly key: EncryptionKey;

  constructor(scope: Construct, id: string, props: ImageRepositoriesProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.key = new EncryptionKey(this, 'Key', {
      description: `Encrypts the images in ${props.repositoryNamePrefix}/*`,
      removalPolicy,
    });

    const repository = (constructId: string, repositoryName: string) =>
      new ecr.Repository(this, constructId, {
        repositoryName,
        imageScanOnPush: true,
        imageTagMutability: ecr.TagMutability.IMMUTABLE,
        encryption: ecr.RepositoryEncryption.KMS,
        encryptionKey: this.key,
        lifecycleRules: [
          {
            description: 'Expire untagged images',
            tagStatus: ecr.TagStatus.UNTAGGED,
            maxImageAge: props.untaggedImageExpiry ?? Duration.days(7),
          },
          {
            description: 'Keep the newest tagged images',
            tagStatus: ecr.TagStatus.ANY,
            maxImageCount: props.maxImageCount ?? 50,
          },
        ],
        removalPolicy,
        emptyOnDelete: removalPolicy === RemovalPolicy.DESTROY,
      });

    this.models = Object.fromEntries(
      (props.modelNames ?? []).map((name) => [name, repository(`Model-${name}`, `${props.repositoryNamePrefix}/models/${name}`)]),
    );
  }

  /**
   * The URI of `model`'s image at `tag`, for use in other stacks. `Repository.repositoryUriForTag`
   * cuts account and region out of the repository ARN with Fn::Split, and in another stack that ARN
   * is an Fn::GetStackOutput, which CloudFormation does not document inside Fn::Split (cfn-lint
   * E1022). Here account and region are this stack's and only the name is referenced.
   */
  public modelImageUri(model: string, tag: string): string {
    const { account, region } = Stack.of(this);
    return `${account}.dkr.ecr.${region}.${Aws.URL_SUFFIX}/${this.models[model].repositoryName}:${tag}`;
  }
}
