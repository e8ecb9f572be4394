import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './helpers/app';

const read = (file: string) => fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');

/** The runbooks the operations docs promise, by file name. */
const RUNBOOKS = [
  'new-environment.md',
  'upgrade-kubernetes.md',
  'upgrade-database.md',
  'restore-database.md',
  'rotate-credentials.md',
  'rollback-model.md',
  'latency-alert.md',
  'teardown-dev.md',
  'stateful-resources.md',
];

/** Relative link targets of a markdown file, outside code spans and blocks. */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((match) => match[1]).filter((target) => !/^[a-z]+:/.test(target));
}

describe('docs', () => {
  test('the README links the architecture, runbooks, config reference, MLflow and onboarding guides', () => {
    const links = relativeLinks(read('README.md'));
    for (const doc of ['docs/architecture.md', 'docs/runbooks/README.md', 'docs/config-reference.md', 'docs/mlflow.md', 'docs/onboarding.md']) {
      expect(links).toContain(doc);
    }
  });

  test('the runbook index links every runbook, and each exists', () => {
    const links = relativeLinks(read('docs/runbooks/README.md'));
    for (const runbook of RUNBOOKS) {
      expect(links).toContain(runbook);
      expect(fs.existsSync(path.join(REPO_ROOT, 'docs', 'runbooks', runbook))).toBe(true);
    }
  });

  test('every relative link in the README and docs/ resolves', () => {
    const files = ['README.md', 'charts/README.md', ...fs.readdirSync(path.join(REPO_ROOT, 'docs'), { recursive: true }).map(String).filter((file) => file.endsWith('.md')).map((file) => path.join('docs', file))];
    const broken = files.flatMap((file) =>
      relativeLinks(read(file))
        .filter((target) => !fs.existsSync(path.join(REPO_ROOT, path.dirname(file), target)))
        .map((target) => `${file} → ${target}`),
    );
    expect(broken).toEqual([]);
  });

  test('the link check sees a broken link', () => {
    expect(relativeLinks('see [gone](nowhere.md) and `[code](ignored.md)`')).toEqual(['nowhere.md']);
  });
});
