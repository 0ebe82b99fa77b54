import { billingSync } from './billing-sync.ts';
import { broadcastFanOut } from './broadcast-fanout.ts';
import { notificationThroughput } from './notification-throughput.ts';
import { planDrain } from './plan-drain.ts';
import { tenantFairness } from './tenant-fairness.ts';

/** `npm run bench [-- <name> [args...]]`: runs one benchmark (or all) and prints JSON results. */
const benchmarks: Record<string, (...args: number[]) => Promise<Record<string, number>>> = {
  notifications: notificationThroughput,
  broadcast: broadcastFanOut,
  plans: planDrain,
  billing: billingSync,
  fairness: tenantFairness,
};

const [name, ...args] = process.argv.slice(2);
const selected = name ? { [name]: benchmarks[name] } : benchmarks;
for (const [benchName, run] of Object.entries(selected)) {
  if (!run) {
    process.stderr.write(`Unknown benchmark "${benchName}". Known: ${Object.keys(benchmarks).join(', ')}\n`);
    process.exit(2);
  }
  process.stderr.write(`${benchName} ...\n`);
  const result = await run(...args.map(Number));
  process.stdout.write(`${JSON.stringify({ benchmark: benchName, ...result })}\n`);
}
process.exit(0);
