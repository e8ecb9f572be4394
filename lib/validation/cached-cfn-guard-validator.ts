import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { IPolicyValidationContext, IPolicyValidationPlugin, PolicyValidationPluginReport } from 'aws-cdk-lib';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { ControlTowerRules, resourceTypesOf } from './control-tower-rules';
import { CacheUse, ValidationCache } from './validation-cache';

export interface CachedCfnGuardValidatorProps {
  /** Folder of the cache entries, or false to validate every template anew. @default DEFAULT_VALIDATION_CACHE_DIRECTORY */
  readonly cacheDirectory?: string | false;
  /** How many cfn-guard processes validate at once. @default the number of CPUs this process may use */
  readonly parallelism?: number;
}

/**
 * Runs in a worker thread: one cfn-guard call over its share of the templates, with the given rule files. cfn-guard's
 * plugin runs the binary synchronously, and a validation plugin must answer synchronously, so the threads are what
 * lets calls overlap.
 */
const WORKER = `
const { workerData } = require('node:worker_threads');
const { CfnGuardValidator } = require(workerData.module);
let message;
try {
  const guard = new CfnGuardValidator({ controlTowerRulesEnabled: false, rules: workerData.rules });
  message = { report: guard.validate({ templatePaths: workerData.templatePaths }) };
} catch (error) {
  message = { error: error instanceof Error ? error.message : String(error) };
}
workerData.port.postMessage(message);
Atomics.store(workerData.done, 0, 1);
Atomics.notify(workerData.done, 0);
`;

/**
 * CloudFormation Guard with Control Tower's proactive-control rules (the `CfnGuardValidator` defaults), validating
 * only templates it has not seen, with only the rule files that can report on them (lib/validation/
 * control-tower-rules.ts), several cfn-guard processes at a time. Findings keep the plugin's name, so their
 * acknowledgment ids are unchanged.
 */
export class CachedCfnGuardValidator implements IPolicyValidationPlugin {
  public readonly name: string;
  public readonly version?: string;
  public readonly ruleIds?: string[];
  private readonly guard = new CfnGuardValidator();
  private readonly cache: ValidationCache;
  private readonly parallelism: number;
  /** A run `start` began, for the templates it covers. */
  private started: { templatePaths: string; report: () => PolicyValidationPluginReport } | undefined;

  constructor(props: CachedCfnGuardValidatorProps = {}) {
    this.name = this.guard.name;
    this.version = this.guard.version;
    this.ruleIds = this.guard.ruleIds;
    this.cache = new ValidationCache({
      checker: this.name,
      ruleSet: guardRuleSet(),
      // cfn-guard's plugin fails a report on any finding.
      fails: (violations) => violations.length > 0,
      directory: props.cacheDirectory,
    });
    this.parallelism = Math.max(1, props.parallelism ?? os.availableParallelism());
  }

  /** How the last synth used the cache. */
  public get cacheUse(): CacheUse {
    return this.cache.lastUse;
  }

  /**
   * Starts cfn-guard, in the background, over the templates of `context` the cache does not hold, so that it runs
   * while other checkers do; `validate` then waits for that run instead of starting its own.
   */
  public start(context: IPolicyValidationContext): void {
    const missing = this.cache.missing(context).map((stack) => stack.templatePath);
    this.started = missing.length > 0 ? { templatePaths: missing.join('\n'), report: this.run(missing) } : undefined;
  }

  public validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    return this.cache.validate(context, (misses) => {
      const started = this.started?.templatePaths === misses.templatePaths.join('\n') ? this.started : undefined;
      this.started = undefined;
      return (started?.report ?? this.run(misses.templatePaths))();
    });
  }

  /** Starts cfn-guard over the templates in worker threads, at most `parallelism` of them; returns what waits for the report. */
  private run(templatePaths: string[]): () => PolicyValidationPluginReport {
    const rules = ControlTowerRules.bundled().filesFor(resourceTypesOf(templatePaths));
    if (rules.length === 0) {
      return () => ({ success: true, violations: [] });
    }
    const modulePath = require.resolve('@cdklabs/cdk-validator-cfnguard');
    const runs = balancedShares(templatePaths, this.parallelism).map((share) => {
      const { port1, port2 } = new MessageChannel();
      const done = new Int32Array(new SharedArrayBuffer(4));
      const worker = new Worker(WORKER, {
        eval: true,
        workerData: { module: modulePath, rules, templatePaths: share, port: port2, done },
        transferList: [port2],
      });
      worker.unref();
      return { port: port1, done };
    });
    return () => {
      const reports = runs.map(({ port, done }) => {
        Atomics.wait(done, 0, 0);
        const message = receiveMessageOnPort(port)?.message as { report?: PolicyValidationPluginReport; error?: string } | undefined;
        port.close();
        if (!message?.report) {
          throw new Error(`cfn-guard failed: ${message?.error ?? 'its worker ended without a report'}`);
        }
        return message.report;
      });
      return { success: reports.every((report) => report.success), violations: reports.flatMap((report) => report.violations) };
    };
  }
}

let guardRuleSetFingerprint: string | undefined;

/**
 * The rules, the cfn-guard binaries that evaluate them, the plugin code that reads their output, and the code that
 * picks the rule files per template; read once per process.
 */
function guardRuleSet(): string {
  const packageRoot = path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json'));
  guardRuleSetFingerprint ??= ValidationCache.fingerprint([
    ...['rules', 'bin', 'lib', 'package.json'].map((entry) => path.join(packageRoot, entry)),
    require.resolve('./control-tower-rules'),
  ]);
  return guardRuleSetFingerprint;
}

/** Splits the templates into at most `count` shares of about equal size, largest first, so the calls end together. */
function balancedShares(templatePaths: string[], count: number): string[][] {
  const shares = Array.from({ length: Math.min(count, templatePaths.length) }, () => ({ bytes: 0, templatePaths: [] as string[] }));
  const bySize = templatePaths.map((templatePath) => ({ templatePath, bytes: fs.statSync(templatePath).size })).sort((a, b) => b.bytes - a.bytes);
  for (const { templatePath, bytes } of bySize) {
    const smallest = shares.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    smallest.templatePaths.push(templatePath);
    smallest.bytes += bytes;
  }
  return shares.map((share) => share.templatePaths);
}
