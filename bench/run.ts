import { billingSync } from './billing-sync.ts';
import { broadcastFanOut } from './broadcast-fanout.ts';
import { apiMe } from './http-me.ts';
import { apiSurveys } from './http-surveys.ts';
import { jobPipeline } from './job-pipeline.ts';
import { notificationThroughput } from './notification-throughput.ts';
import { planDrain } from './plan-drain.ts';
import { processStart } from './process-start.ts';
import { tenantFairness } from './tenant-fairness.ts';

type Line = Record<string, number | string>;

/**
 * `npm run bench [-- <name> [args...]]`: runs one benchmark (or all) and prints JSON results.
 * A benchmark returns one result (one line) or a list of measures (one line each).
 */
const benchmarks: Record<string, (...args: number[]) => Promise<Line | Line[]>> = {
  notifications: notificationThroughput,
  broadcast: broadcastFanOut,
  plans: planDrain,
  billing: billingSync,
  fairness: tenantFairness,
  me: apiMe,
  surveys: apiSurveys,
  jobs: jobPipeline,
  startup: processStart,
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
  for (const line of Array.isArray(result) ? result : [result]) {
    process.stdout.write(`${JSON.stringify({ benchmark: benchName, ...line })}\n`);
  }
}
process.exit(0);
