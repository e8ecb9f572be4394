// Estimated monthly cost of each environment from its config and the committed price table
// (scripts/cost/prices.json), biggest lines first, with the config field that changes each.
// Usage: npm run cost [-- [--config <folder>] [<environment>...]]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CostEstimate, estimateCost, isStale, MissingPriceError, NODE_ASSUMPTIONS, PriceTable, priceTableSchema, STALE_AFTER_MONTHS } from './cost/estimate';
import { selectEnvironments } from './environment-selection';

const PRICES = path.join(__dirname, 'cost', 'prices.json');

/** The report of one environment: a table, biggest line first, and its totals. */
export function costReport(estimate: CostEstimate): string {
  const dollars = (value: number) => `$${Math.round(value).toLocaleString('en-US')}`.padStart(9);
  const lines = [...estimate.lines].sort((a, b) => b.monthlyAtMax - a.monthlyAtMax || a.item.localeCompare(b.item));
  const rows = lines.map((line) => `  ${line.item.padEnd(22)} ${dollars(line.monthlyAtMin)} ${dollars(line.monthlyAtMax)}  ${line.field.padEnd(58)} ${line.detail}`);
  const biggest = lines.slice(0, 3).map((line) => `${line.item} (${line.field})`);
  return [
    `${estimate.environment} (${estimate.region}), per month, models at min and at max replicas`,
    `  ${'item'.padEnd(22)} ${'at min'.padStart(9)} ${'at max'.padStart(9)}  ${'config field'.padEnd(58)} how`,
    ...rows,
    `  ${'total'.padEnd(22)} ${dollars(estimate.totalAtMin)} ${dollars(estimate.totalAtMax)}`,
    `  biggest: ${biggest.join('; ')}`,
  ].join('\n');
}

function main(): number {
  const selected = selectEnvironments('cost', process.argv.slice(2));
  if (!selected.ok) {
    selected.lines.forEach((line) => console.error(line));
    return 1;
  }
  const parsed = priceTableSchema.safeParse(JSON.parse(fs.readFileSync(PRICES, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    console.error(`cost: scripts/cost/prices.json: ${issue.path.join('.')}: ${issue.message}`);
    return 1;
  }
  const table: PriceTable = parsed.data;
  const estimates: CostEstimate[] = [];
  for (const config of selected.environments) {
    try {
      estimates.push(estimateCost(config, table));
    } catch (error) {
      if (error instanceof MissingPriceError) {
        console.error(`cost: config ${config.name}: ${error.message}; add it to scripts/cost/prices.json`);
        return 1;
      }
      throw error;
    }
  }
  console.log(`Prices: scripts/cost/prices.json of ${table.date} (${table.currency}, ${table.hoursPerMonth} hours a month); sources per price in the file.`);
  if (isStale(table, new Date())) {
    console.log(`WARNING: the price table is more than ${STALE_AFTER_MONTHS} months old (${table.date}): check the prices at their sources and update its date.`);
  }
  for (const estimate of estimates) {
    console.log(`\n${costReport(estimate)}`);
    if (estimate.unverified.length > 0) {
      console.log(`  UNVERIFIED prices used: ${estimate.unverified.join(', ')}`);
    }
  }
  console.log(`\n${NODE_ASSUMPTIONS.join('\n')}`);
  return 0;
}

if (require.main === module) {
  process.exit(main());
}
