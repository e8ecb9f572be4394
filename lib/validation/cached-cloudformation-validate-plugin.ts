import * as path from 'node:path';
import { CloudFormationValidatePlugin, IPolicyValidationContext, PolicyValidationPluginReport } from 'aws-cdk-lib';
import { CacheUse, ValidationCache } from './validation-cache';

/** A checker that can start validating in the background before its turn comes. */
export interface BackgroundChecker {
  /** Starts validating the templates of `context`; the checker's own `validate` later collects the result. */
  start(context: IPolicyValidationContext): void;
}

export interface CachedCloudFormationValidatePluginProps {
  /** Folder of the cache entries, or false to validate every template anew. @default DEFAULT_VALIDATION_CACHE_DIRECTORY */
  readonly cacheDirectory?: string | false;
  /**
   * Checkers to start as this one begins, so they run on other CPUs while this one loads its engine (about 1.5 s)
   * and validates; aws-cdk-lib calls the checkers one after another. @default - none
   */
  readonly alongside?: BackgroundChecker[];
}

/**
 * aws-cdk-lib's built-in CloudFormation validator with its default rules, validating only templates it has not
 * seen. Registered on the app, it replaces the validator aws-cdk-lib would add itself (it is one, by subclass), so
 * its findings keep their name, their severity handling and their acknowledgment ids.
 */
export class CachedCloudFormationValidatePlugin extends CloudFormationValidatePlugin {
  private readonly cache: ValidationCache;
  private readonly alongside: BackgroundChecker[];

  constructor(props: CachedCloudFormationValidatePluginProps = {}) {
    super();
    this.alongside = props.alongside ?? [];
    this.cache = new ValidationCache({
      checker: this.name,
      ruleSet: builtInRuleSet(),
      fails: (violations) => violations.some((violation) => violation.severity === 'error' || violation.severity === 'fatal'),
      directory: props.cacheDirectory,
    });
  }

  /** How the last synth used the cache. */
  public get cacheUse(): CacheUse {
    return this.cache.lastUse;
  }

  public validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    for (const checker of this.alongside) {
      checker.start(context);
    }
    return this.cache.validate(context, (misses) => super.validate(misses));
  }
}

let builtInRuleSetFingerprint: string | undefined;

/**
 * The validation engine with its resource schemas, the default rules, and aws-cdk-lib's version (aws-cdk-lib picks
 * the rules it skips); read once per process.
 */
function builtInRuleSet(): string {
  const libraryRoot = path.dirname(require.resolve('aws-cdk-lib/package.json'));
  const engineRoot = path.dirname(require.resolve('@aws/cloudformation-validate/package.json', { paths: [libraryRoot] }));
  builtInRuleSetFingerprint ??= ValidationCache.fingerprint([
    engineRoot,
    path.join(libraryRoot, 'core', 'lib', 'validation', 'rules'),
    path.join(libraryRoot, 'package.json'),
  ]);
  return builtInRuleSetFingerprint;
}
