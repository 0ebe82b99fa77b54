import { billingSync } from './billing-sync.ts';
import { broadcastFanOut } from './broadcast-fanout.ts';
import { apiMe } from './http-me.ts';
import { apiSurveys } from './http-surveys.ts';
import { jobPipeline } from './job-pipeline.ts';
import { metricsAtScale } from './metrics-at-scale.ts';
import { notificationThroughput } from './notification-throughput.ts';
import { pagesAtScale } from './pages-at-scale.ts';
import { planDrain } from './plan-drain.ts';
import { processStart } from './process-start.ts';
import { soak } from './soak.ts';
import { surveyToPlan } from './survey-to-plan.ts';
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
  pages: pagesAtScale,
  metrics: metricsAtScale,
  startup: processStart,
  e2e: surveyToPlan,
  soak,
};

/**
 * Arguments of the whole-suite run (`npm run bench` with no name), so that every measure fits in
 * 30 minutes: 3,000 notifications at Telegram's 30/s take 100 s where the default 10,000 take 340,
 * and billing syncs 10,000 subscribers once per provider instead of three times (190 s → ~70 s).
 * A benchmark run by name keeps its own defaults.
 */
const SUITE_ARGS: Record<string, number[]> = {
  notifications: [3_000, 3],
  billing: [10_000, 1],
};

const [name, ...args] = process.argv.slice(2);
const selected = name ? { [name]: benchmarks[name] } : benchmarks;
const suiteStarted = performance.now();
for (const [benchName, run] of Object.entries(selected)) {
  if (!run) {
    process.stderr.write(`Unknown benchmark "${benchName}". Known: ${Object.keys(benchmarks).join(', ')}\n`);
    process.exit(2);
  }
  process.stderr.write(`${benchName} ...\n`);
  const started = performance.now();
  const result = await run(...(name ? args.map(Number) : (SUITE_ARGS[benchName] ?? [])));
  const seconds = Math.round((performance.now() - started) / 1000);
  for (const line of Array.isArray(result) ? result : [result]) {
    process.stdout.write(`${JSON.stringify({ benchmark: benchName, ...line })}\n`);
  }
  process.stderr.write(`${benchName}: ${seconds} s\n`);
}
if (!name)
  process.stderr.write(`all benchmarks: ${Math.round((performance.now() - suiteStarted) / 1000)} s\n`);
process.exit(0);
