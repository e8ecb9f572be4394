// Prints, as JSON for GitHub Actions, the environments the workflows deploy: account, region, the
// role ARNs the CiIdentity stack creates under names derived from config, and the GitHub
// environment a pull request's diff must run in. For the diff jobs' matrices, `--diffs=pull-request`
// prints the names any pull request may diff, `--diffs=reviewed` the names whose diff runs only in
// a GitHub environment with reviewers. `--config <folder>` reads another config folder than config/.
// Usage: npm run --silent ci:environments [-- [--config <folder>] [--diffs=pull-request | --diffs=reviewed]]
import { CiTarget, ciTargets } from '../lib/config/derived';
import { formatProblem, loadEnvironments } from '../lib/config/load';
import { CONFIG_DIR } from './environment-selection';

type Targets = Record<string, CiTarget>;
const diffNames = (targets: Targets, reviewed: boolean) =>
  Object.keys(targets).filter((name) => (targets[name].diffEnvironment !== null) === reviewed);
const SELECTIONS: Record<string, (targets: Targets) => unknown> = {
  '--diffs=pull-request': (targets) => diffNames(targets, false),
  '--diffs=reviewed': (targets) => diffNames(targets, true),
};

const args = process.argv.slice(2);
let configDir = CONFIG_DIR;
let selection: string | undefined;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--config' && args[i + 1] !== undefined && !args[i + 1].startsWith('-')) {
    configDir = args[++i];
  } else if (Object.hasOwn(SELECTIONS, args[i]) && selection === undefined) {
    selection = args[i];
  } else {
    console.error(
      `ci:environments: unknown arguments '${args.join(' ')}'; usage: npm run --silent ci:environments [-- [--config <folder>] [${Object.keys(SELECTIONS).join(' | ')}]]`,
    );
    process.exit(2);
  }
}
const loaded = loadEnvironments(configDir);
if (!loaded.ok) {
  loaded.problems.forEach((problem) => console.error(`ci:environments: ${formatProblem(problem)}`));
  process.exit(1);
}
const targets = ciTargets(loaded.environments);
console.log(JSON.stringify(selection === undefined ? targets : SELECTIONS[selection](targets)));
