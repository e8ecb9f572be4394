import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, IPolicyValidationContext, PolicyValidationPluginReport, PolicyViolation } from 'aws-cdk-lib';
import { ValidationCache } from '../../../lib/validation/validation-cache';
import { scratchFolder } from '../../helpers/scratch';

/** A checker that fails every template holding a resource of type `Bad`, and counts what it validated. */
class FakeChecker {
  public validated: string[] = [];

  public check = (context: IPolicyValidationContext): PolicyValidationPluginReport => {
    this.validated.push(...context.templatePaths.map((templatePath) => path.basename(templatePath)));
    const violations: PolicyViolation[] = context.templatePaths.flatMap((templatePath) => {
      const resources = JSON.parse(fs.readFileSync(templatePath, 'utf8')).Resources as Record<string, { Type: string }>;
      const bad = Object.entries(resources).filter(([, resource]) => resource.Type === 'Bad');
      return bad.map(([logicalId]) => ({
        ruleName: 'no-bad',
        description: 'a Bad resource',
        violatingResources: [{ resourceLogicalId: logicalId, templatePath, locations: [`/Resources/${logicalId}`] }],
      }));
    });
    return { success: violations.length === 0, violations };
  };
}

let folder: string;
beforeEach(() => {
  folder = fs.mkdtempSync(path.join(scratchFolder(), 'validation-cache-'));
});
afterEach(() => {
  fs.rmSync(folder, { recursive: true, force: true });
});

function template(name: string, types: string[]): string {
  const file = path.join(folder, name);
  fs.writeFileSync(file, JSON.stringify({ Resources: Object.fromEntries(types.map((type, index) => [`R${index}`, { Type: type }])) }));
  return file;
}

function contextOf(...templatePaths: string[]): IPolicyValidationContext {
  return {
    templatePaths,
    stackTemplates: templatePaths.map((templatePath) => ({
      stackConstructPath: `app/${path.basename(templatePath)}`,
      templatePath,
      accountId: '123456789012',
      region: 'eu-west-1',
    })),
    appConstruct: new App(),
  };
}

function cacheOf(ruleSet = 'rules-1', directory: string | false = path.join(folder, 'cache')): ValidationCache {
  return new ValidationCache({ checker: 'fake checker', ruleSet, fails: (violations) => violations.length > 0, directory });
}

const findings = (report: PolicyValidationPluginReport) =>
  report.violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => `${violation.ruleName} ${path.basename(resource.templatePath!)} ${resource.resourceLogicalId}`),
  );

describe('ValidationCache', () => {
  test('a finding reported once is reported again from the cache, as a failure, without running the checker', () => {
    const checker = new FakeChecker();
    const bad = template('bad.template.json', ['Ok', 'Bad']);
    const first = cacheOf().validate(contextOf(bad), checker.check);
    checker.validated = [];
    const cache = cacheOf();
    const second = cache.validate(contextOf(bad), checker.check);

    expect(checker.validated).toEqual([]);
    expect(cache.lastUse).toEqual({ hits: 1, misses: 0 });
    expect(second.success).toBe(false);
    expect(findings(second)).toEqual(findings(first));
    expect(findings(second)).toEqual(['no-bad bad.template.json R1']);
  });

  test('a template changed after a passing run is validated again, and its new finding fails the report', () => {
    const checker = new FakeChecker();
    const stack = template('stack.template.json', ['Ok']);
    const other = template('other.template.json', ['Ok']);
    expect(cacheOf().validate(contextOf(stack, other), checker.check).success).toBe(true);

    template('stack.template.json', ['Ok', 'Bad']);
    checker.validated = [];
    const report = cacheOf().validate(contextOf(stack, other), checker.check);

    expect(checker.validated).toEqual(['stack.template.json']);
    expect(report.success).toBe(false);
    expect(findings(report)).toEqual(['no-bad stack.template.json R1']);
  });

  test('cached findings name the template of this synth, wherever the earlier one was written', () => {
    const checker = new FakeChecker();
    cacheOf().validate(contextOf(template('stack.template.json', ['Bad'])), checker.check);
    const elsewhere = path.join(folder, 'elsewhere');
    fs.mkdirSync(elsewhere);
    const moved = path.join(elsewhere, 'stack.template.json');
    fs.copyFileSync(path.join(folder, 'stack.template.json'), moved);

    const report = cacheOf().validate(contextOf(moved), checker.check);

    expect(report.violations[0].violatingResources[0].templatePath).toBe(moved);
  });

  test('a changed rule set validates every template again', () => {
    const checker = new FakeChecker();
    const stack = template('stack.template.json', ['Ok']);
    cacheOf('rules-1').validate(contextOf(stack), checker.check);
    checker.validated = [];

    cacheOf('rules-2').validate(contextOf(stack), checker.check);

    expect(checker.validated).toEqual(['stack.template.json']);
  });

  test('the same template in another stack, account or region is validated again', () => {
    const checker = new FakeChecker();
    const stack = template('stack.template.json', ['Ok']);
    cacheOf().validate(contextOf(stack), checker.check);
    checker.validated = [];
    const inOtherRegion = contextOf(stack);
    const moved = { ...inOtherRegion, stackTemplates: inOtherRegion.stackTemplates.map((entry) => ({ ...entry, region: 'us-east-1' })) };

    cacheOf().validate(moved, checker.check);

    expect(checker.validated).toEqual(['stack.template.json']);
  });

  test('findings the checker does not tie to one of the templates are reported and not cached', () => {
    const stack = template('stack.template.json', ['Ok']);
    const untraceable = (): PolicyValidationPluginReport => ({
      success: false,
      violations: [{ ruleName: 'app-wide', description: 'no resource', violatingResources: [] }],
    });
    expect(cacheOf().validate(contextOf(stack), untraceable).success).toBe(false);

    const checker = new FakeChecker();
    const cache = cacheOf();
    cache.validate(contextOf(stack), checker.check);

    expect(cache.lastUse).toEqual({ hits: 0, misses: 1 });
  });

  test('a report whose verdict its findings do not explain is reported and not cached', () => {
    const stack = template('stack.template.json', ['Ok']);
    // Failed without a finding: the per-template verdicts (all passing) would turn it into a pass.
    expect(cacheOf().validate(contextOf(stack), () => ({ success: false, violations: [] })).success).toBe(false);

    const cache = cacheOf();
    cache.validate(contextOf(stack), new FakeChecker().check);

    expect(cache.lastUse).toEqual({ hits: 0, misses: 1 });
  });

  test('an unreadable entry is validated again', () => {
    const checker = new FakeChecker();
    const stack = template('stack.template.json', ['Bad']);
    cacheOf().validate(contextOf(stack), checker.check);
    for (const entry of fs.readdirSync(path.join(folder, 'cache'), { recursive: true }).map(String).filter((file) => file.endsWith('.json'))) {
      fs.writeFileSync(path.join(folder, 'cache', entry), '{"format": 1, "succ');
    }
    checker.validated = [];

    const report = cacheOf().validate(contextOf(stack), checker.check);

    expect(checker.validated).toEqual(['stack.template.json']);
    expect(report.success).toBe(false);
  });

  test('turned off, it validates every template every time and writes nothing', () => {
    const checker = new FakeChecker();
    const stack = template('stack.template.json', ['Ok']);
    cacheOf('rules-1', false).validate(contextOf(stack), checker.check);
    cacheOf('rules-1', false).validate(contextOf(stack), checker.check);

    expect(checker.validated).toEqual(['stack.template.json', 'stack.template.json']);
    expect(fs.existsSync(path.join(folder, 'cache'))).toBe(false);
  });

  test('a cache folder that cannot be written costs only the reuse: findings are still reported', () => {
    const blocked = path.join(folder, 'blocked');
    // A file where the folder should be: creating the entry's folder fails, whoever runs the test.
    fs.writeFileSync(blocked, 'not a folder');
    const stack = template('stack.template.json', ['Bad']);

    const report = cacheOf('rules-1', blocked).validate(contextOf(stack), new FakeChecker().check);

    expect(report.success).toBe(false);
    expect(findings(report)).toEqual(['no-bad stack.template.json R0']);
  });

  test('the fingerprint of a rule set changes when any rule file changes', () => {
    const rules = path.join(folder, 'rules');
    fs.mkdirSync(path.join(rules, 's3'), { recursive: true });
    fs.writeFileSync(path.join(rules, 's3', 'a.guard'), 'rule a {}');
    const before = ValidationCache.fingerprint([rules]);
    fs.writeFileSync(path.join(rules, 's3', 'a.guard'), 'rule a { true }');

    expect(ValidationCache.fingerprint([rules])).not.toBe(before);
  });
});
