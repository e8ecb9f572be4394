// Prints, as JSON for GitHub Actions, the environments the workflows deploy: account, region, the
// role ARNs the CiIdentity stack creates under names derived from config, and the GitHub
// environment a pull request's diff must run in. For the diff jobs' matrices, `--diffs=pull-request`
// prints the names any pull request may diff, `--diffs=reviewed` the names whose diff runs only in
// a GitHub environment with reviewers.
// Usage: npm run --silent ci:environments [-- --diffs=pull-request | --diffs=reviewed]
import * as path from 'node:path';
import { CiTarget, ciTargets } from '../lib/config/derived';
import { loadEnvironments } from '../lib/config/load';

type Targets = Record<string, CiTarget>;
const diffNames = (targets: Targets, reviewed: boolean) =>
  Object.keys(targets).filter((name) => (targets[name].diffEnvironment !== null) === reviewed);
const SELECTIONS: Record<string, (targets: Targets) => unknown> = {
  '--diffs=pull-request': (targets) => diffNames(targets, false),
  '--diffs=reviewed': (targets) => diffNames(targets, true),
};

const args = process.argv.slice(2);
if (args.length > 1 || (args.length === 1 && !Object.hasOwn(SELECTIONS, args[0]))) {
  console.error(`ci:environments: unknown arguments '${args.join(' ')}'; usage: npm run --silent ci:environments [-- ${Object.keys(SELECTIONS).join(' | ')}]`);
  process.exit(2);
}
const loaded = loadEnvironments(path.join(__dirname, '..', 'config'));
if (!loaded.ok) {
  console.error(loaded.message);
  process.exit(1);
}
const targets = ciTargets(loaded.environments);
console.log(JSON.stringify(args.length === 0 ? targets : SELECTIONS[args[0]](targets)));
