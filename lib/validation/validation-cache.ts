import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IPolicyValidationContext, PolicyValidationPluginReport, PolicyViolatingResource, PolicyViolation } from 'aws-cdk-lib';

/** Bump when the shape of an entry changes, so entries written by older code are never read. */
const ENTRY_FORMAT = 1;

/** Where the cache lives unless told otherwise: git-ignored, and gone with a fresh install. */
export const DEFAULT_VALIDATION_CACHE_DIRECTORY = path.join(__dirname, '..', '..', 'node_modules', '.cache', 'mlops-platform', 'validation');

/** What a checker found in one template, as stored: the template's path is left out, since each synth writes elsewhere. */
interface Entry {
  readonly format: number;
  readonly success: boolean;
  readonly violations: PolicyViolation[];
}

export interface ValidationCacheProps {
  /** The checker's name, which also names its findings' acknowledgment ids. */
  readonly checker: string;
  /**
   * Identifies everything besides the template that decides the checker's findings: its version, its rule
   * files and its options. Any change to them must change this, so that no entry of the old rule set is read.
   */
  readonly ruleSet: string;
  /** Whether one template's findings make a failed report; decides `success` of a merged report. */
  readonly fails: (violations: PolicyViolation[]) => boolean;
  /** Folder of the entries, or false to keep none and validate every template. @default DEFAULT_VALIDATION_CACHE_DIRECTORY */
  readonly directory?: string | false;
}

/** How the last run used the cache, for the synth summary and the tests. */
export interface CacheUse {
  /** Templates whose findings came from the cache. */
  readonly hits: number;
  /** Templates the checker validated. */
  readonly misses: number;
}

/**
 * Remembers a checker's findings per template, keyed by a hash of the template, of where it sits in the app
 * (stack path, account, region, file name) and of the checker's rule set. A hit returns the findings the checker
 * reported for exactly that input, failures included, so a cached result is never more lenient than a fresh one;
 * acknowledgments are applied afterwards by aws-cdk-lib, to cached and fresh findings alike.
 *
 * A batch whose findings cannot each be traced to one of its templates, or whose own verdict disagrees with the
 * per-template verdicts, is returned as the checker gave it and not stored.
 */
export class ValidationCache {
  /** How the most recent `validate` call used the cache. */
  public lastUse: CacheUse = { hits: 0, misses: 0 };
  private readonly directory: string | undefined;

  constructor(private readonly props: ValidationCacheProps) {
    const root = props.directory ?? DEFAULT_VALIDATION_CACHE_DIRECTORY;
    this.directory = root === false ? undefined : path.join(root, props.checker.replace(/[^A-Za-z0-9_.-]/g, '_'));
  }

  /** Hash of the named files and folders, recursively by content: a rule set's identity. */
  public static fingerprint(paths: string[]): string {
    const hash = crypto.createHash('sha256');
    const add = (file: string) => {
      const stat = fs.statSync(file);
      if (stat.isDirectory()) {
        for (const child of fs.readdirSync(file).sort()) {
          add(path.join(file, child));
        }
      } else {
        hash.update(`${path.basename(file)}\0${stat.size}\0`).update(fs.readFileSync(file));
      }
    };
    for (const file of paths) {
      add(file);
    }
    return hash.digest('hex');
  }

  /** The templates of `context` whose findings the cache does not hold. */
  public missing(context: IPolicyValidationContext): IPolicyValidationContext['stackTemplates'] {
    return context.stackTemplates.filter((stack) => !this.read(this.keyOf(stack.stackConstructPath, stack.templatePath, stack.accountId, stack.region)));
  }

  /** The report for every template in `context`: cached findings for known templates, `check` runs on the rest. */
  public validate(
    context: IPolicyValidationContext,
    check: (misses: IPolicyValidationContext) => PolicyValidationPluginReport,
  ): PolicyValidationPluginReport {
    const templates = context.stackTemplates.map((stack) => {
      const key = this.keyOf(stack.stackConstructPath, stack.templatePath, stack.accountId, stack.region);
      return { stack, key, entry: this.read(key) };
    });
    const missing = templates.filter((template) => !template.entry).map((template) => template.stack);
    this.lastUse = { hits: templates.length - missing.length, misses: missing.length };

    const reports: PolicyValidationPluginReport[] = templates.flatMap(({ stack, entry }) =>
      entry ? [{ success: entry.success, violations: withTemplatePath(entry.violations, stack.templatePath) }] : [],
    );
    if (missing.length > 0) {
      const fresh = check({
        ...context,
        templatePaths: missing.map((stack) => stack.templatePath),
        stackTemplates: missing,
        accountId: missing.every((stack) => stack.accountId === missing[0].accountId) ? missing[0].accountId : undefined,
        region: missing.every((stack) => stack.region === missing[0].region) ? missing[0].region : undefined,
      });
      reports.push(fresh);
      const perTemplate = this.splitByTemplate(fresh, missing.map((stack) => stack.templatePath));
      for (const { stack, key, entry } of templates) {
        const fresh = perTemplate?.get(stack.templatePath);
        if (!entry && fresh) {
          this.write(key, fresh);
        }
      }
    }
    return {
      success: reports.every((report) => report.success),
      violations: mergeByRule(reports.flatMap((report) => report.violations)),
      // Carried into validation-report.json, where the synth summary reads it.
      metadata: { templates: String(templates.length), reusedFromCache: String(this.lastUse.hits) },
    };
  }

  private keyOf(stackPath: string, templatePath: string, account: string | undefined, region: string | undefined): string {
    return crypto
      .createHash('sha256')
      .update(JSON.stringify([ENTRY_FORMAT, this.props.checker, this.props.ruleSet, stackPath, account ?? '', region ?? '', path.basename(templatePath)]))
      .update(fs.readFileSync(templatePath))
      .digest('hex');
  }

  /**
   * One entry per template, or undefined when the report cannot be split faithfully: a finding on no template of
   * the batch, or a report verdict that the per-template verdicts do not reproduce.
   */
  private splitByTemplate(report: PolicyValidationPluginReport, templatePaths: string[]): Map<string, Entry> | undefined {
    // Checkers may name a template by another spelling of its path (cfn-guard makes it absolute).
    const violationsOf = new Map<string, PolicyViolation[]>(templatePaths.map((templatePath) => [path.resolve(templatePath), []]));
    const templateOf = (resource: PolicyViolatingResource) => resource.templatePath && path.resolve(resource.templatePath);
    for (const violation of report.violations) {
      if (violation.violatingResources.length === 0) {
        return undefined;
      }
      for (const templatePath of new Set(violation.violatingResources.map(templateOf))) {
        const own = templatePath === undefined ? undefined : violationsOf.get(templatePath);
        if (!own) {
          return undefined;
        }
        own.push({ ...violation, violatingResources: violation.violatingResources.filter((resource) => templateOf(resource) === templatePath) });
      }
    }
    const entries = new Map<string, Entry>();
    for (const templatePath of templatePaths) {
      const violations = violationsOf.get(path.resolve(templatePath)) ?? [];
      entries.set(templatePath, { format: ENTRY_FORMAT, success: !this.props.fails(violations), violations: withTemplatePath(violations, undefined) });
    }
    const verdict = [...entries.values()].every((entry) => entry.success);
    return verdict === report.success ? entries : undefined;
  }

  private read(key: string): Entry | undefined {
    const file = this.fileOf(key);
    if (!file) {
      return undefined;
    }
    try {
      const entry = JSON.parse(fs.readFileSync(file, 'utf8')) as Entry;
      return entry.format === ENTRY_FORMAT && typeof entry.success === 'boolean' && Array.isArray(entry.violations) ? entry : undefined;
    } catch {
      // No entry, or one that cannot be read: validate the template again.
      return undefined;
    }
  }

  private write(key: string, entry: Entry): void {
    const file = this.fileOf(key);
    if (!file) {
      return;
    }
    // Write and rename, so a concurrent synth never reads half an entry.
    const partial = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.partial`;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(partial, JSON.stringify(entry));
      fs.renameSync(partial, file);
    } catch {
      // A folder that cannot be written (a read-only install) only costs the next synth its reuse.
      if (fs.existsSync(partial)) {
        fs.rmSync(partial);
      }
    }
  }

  /** Where the entry of `key` lives; undefined when the cache is off. */
  private fileOf(key: string): string | undefined {
    return this.directory && path.join(this.directory, key.slice(0, 2), `${key}.json`);
  }
}

/** Copies of the findings with every resource's template path set to `templatePath` (or left out, when undefined). */
function withTemplatePath(violations: PolicyViolation[], templatePath: string | undefined): PolicyViolation[] {
  return violations.map((violation) => ({
    ...violation,
    violatingResources: violation.violatingResources.map((resource) => ({
      resourceLogicalId: resource.resourceLogicalId,
      constructPath: resource.constructPath,
      locations: resource.locations,
      templatePath,
    })),
  }));
}

/** One finding per rule and message, holding the resources of every template, as a checker reports a batch. */
function mergeByRule(violations: PolicyViolation[]): PolicyViolation[] {
  const merged = new Map<string, PolicyViolation>();
  for (const violation of violations) {
    const key = JSON.stringify([violation.ruleName, violation.description, violation.fix, violation.severity, violation.ruleMetadata]);
    const existing = merged.get(key);
    merged.set(key, existing ? { ...existing, violatingResources: [...existing.violatingResources, ...violation.violatingResources] } : violation);
  }
  return [...merged.values()];
}
