// What each team and GPU pool needs with every model at maxReplicas plus its rolling-update pod
// (and the routers of models with a shadow or a fallback, and one pod of each scheduled job),
// against its quota or limit, and what each model version serves at maxReplicas against its share
// of the model's peak request rate: the headroom to read before merging a config change.
// Usage: npm run capacity [-- [--config <folder>] [<environment>...]]
import { capacityLines, SERVING_HEADROOM, servingLines } from '../lib/config/capacity';
import { EnvironmentConfig } from '../lib/config/schema';
import { selectEnvironments } from './environment-selection';

/** The report, one environment after another. */
export function capacityReport(environments: readonly EnvironmentConfig[]): string {
  const round = (value: number) => String(Math.round(value * 100) / 100);
  const minimumHeadroom = Math.round((SERVING_HEADROOM - 1) * 100);
  const lines: string[] = [];
  for (const environment of environments) {
    lines.push('', environment.name);
    for (const line of capacityLines(environment)) {
      const use = line.limit > 0 ? `${Math.round((line.peak / line.limit) * 100)} %` : line.peak > 0 ? 'over' : '-';
      const field = String(line.path[line.path.length - 1]);
      lines.push(`  ${line.subject.padEnd(24)} ${field.padEnd(24)} peak ${round(line.peak).padStart(7)} of ${round(line.limit).padStart(7)}  ${use}`);
    }
    for (const line of servingLines(environment)) {
      const atMax = `req/s at maxReplicas (${line.maxReplicas} × ${round(line.podRequestsPerSecond)})`;
      const headroom = line.peak > 0 ? `headroom ${Math.round(line.headroom * 100)} %, at least ${minimumHeadroom} %` : 'no share of the traffic';
      lines.push(`  ${line.subject.padEnd(36)} ${'capacity'.padEnd(24)} peak ${round(line.peak).padStart(7)} of ${round(line.capacity).padStart(7)} ${atMax}  ${headroom}`);
    }
  }
  return lines.join('\n');
}

if (require.main === module) {
  const selected = selectEnvironments('capacity', process.argv.slice(2));
  if (!selected.ok) {
    selected.lines.forEach((line) => console.error(line));
    process.exit(1);
  }
  console.log(capacityReport(selected.environments));
}
