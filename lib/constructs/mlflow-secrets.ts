import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { EncryptionKey } from './encryption-key';

/** Properties of {@link MlflowSecrets}. */
export interface MlflowSecretsProps {
  /** Path prefix of the secrets' names, e.g. `mlops/prod/mlflow`. */
  readonly secretNamePrefix: string;
  /** What happens to the secrets and their key when they leave the stack. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The MLflow server's generated secrets under one key of their own: the `mlflow_app` database
 * login, the initial `admin` user and the Flask key that signs sessions. Their values never
 * reach a template: pods read them at run time.
 */
export class MlflowSecrets extends Construct {
  /** Key encrypting the three secrets. */
  public readonly key: EncryptionKey;
  /** PostgreSQL login of the server, `mlflow_app`; the migration Job sets it on the database. */
  public readonly databaseApp: secretsmanager.Secret;
  /** Initial password of the basic-auth `admin` user. */
  public readonly admin: secretsmanager.Secret;
  /** Signs the basic-auth sessions and CSRF tokens. */
  public readonly flaskSecretKey: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: MlflowSecretsProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.key = new EncryptionKey(this, 'Key', {
      description: `Encrypts the MLflow server secrets under ${props.secretNamePrefix}`,
      removalPolicy,
    });
    const userSecret = (secretId: string, name: string, username: string, description: string) =>
      new secretsmanager.Secret(this, secretId, {
        secretName: `${props.secretNamePrefix}/${name}`,
        description,
        encryptionKey: this.key,
        removalPolicy,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ username }),
          generateStringKey: 'password',
          passwordLength: 32,
          excludePunctuation: true,
        },
      });
    this.databaseApp = userSecret(
      'DatabaseAppSecret',
      'database-app',
      'mlflow_app',
      'PostgreSQL login of the MLflow server; the migration Job sets it on the database',
    );
    this.admin = userSecret('AdminSecret', 'admin', 'admin', 'Initial password of the MLflow basic-auth admin; seeds the first start only');
    this.flaskSecretKey = new secretsmanager.Secret(this, 'FlaskSecretKey', {
      secretName: `${props.secretNamePrefix}/flask-secret-key`,
      description: 'Signs the MLflow basic-auth sessions and CSRF tokens',
      encryptionKey: this.key,
      removalPolicy,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });

    for (const secret of this.all) {
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions::AwsSolutions-SMG4',
        reason:
          'Pods read these secrets when they start, so unattended rotation would break running servers; rotation is an operator runbook (update the secret, re-run the migration Job, restart the server).',
      });
    }
  }

  /** The three secrets. */
  public get all(): secretsmanager.Secret[] {
    return [this.databaseApp, this.admin, this.flaskSecretKey];
  }
}
