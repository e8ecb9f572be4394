// Prints, as JSON for GitHub Actions, the environments the workflows deploy: account, region and
// the role ARNs the CiIdentity stack creates under names derived from config. `--names` prints
// just their names, for a job matrix.
// Usage: npm run --silent ci:environments [-- --names]
import * as path from 'node:path';
import { ciTargets } from '../lib/config/derived';
import { loadEnvironments } from '../lib/config/load';

const loaded = loadEnvironments(path.join(__dirname, '..', 'config'));
if (!loaded.ok) {
  console.error(loaded.message);
  process.exit(1);
}
const targets = ciTargets(loaded.environments);
console.log(JSON.stringify(process.argv.includes('--names') ? Object.keys(targets) : targets));
