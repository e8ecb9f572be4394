// What each team and GPU pool needs with every model at maxReplicas plus its rolling-update pod,
// against its quota or limit: the headroom to read before merging a config change.
// Usage: npm run capacity [-- <config folder>]
import * as path from 'node:path';
import { capacityLines } from '../lib/config/capacity';
import { loadEnvironments } from '../lib/config/load';

const configDir = process.argv[2] ?? path.join(__dirname, '..', 'config');
const loaded = loadEnvironments(configDir);
if (!loaded.ok) {
  console.error(loaded.message);
  process.exit(1);
}
const round = (value: number) => String(Math.round(value * 100) / 100);
for (const environment of loaded.environments) {
  console.log(`\n${environment.name}`);
  for (const line of capacityLines(environment)) {
    const use = line.limit > 0 ? `${Math.round((line.peak / line.limit) * 100)} %` : line.peak > 0 ? 'over' : '-';
    const field = String(line.path[line.path.length - 1]);
    console.log(`  ${line.subject.padEnd(24)} ${field.padEnd(24)} peak ${round(line.peak).padStart(7)} of ${round(line.limit).padStart(7)}  ${use}`);
  }
}
