import { catalogueProblems, JOBS, type JobCatalogue } from '../src/queue/job-catalogue.ts';
import { fanOutBroadcastJob } from './fan-out-broadcast.ts';
import { generatePlanJob } from './generate-plan.ts';
import type { JobHandler, JobHandlers } from './job-definition.ts';
import { recomputeMetricsJob } from './recompute-metrics.ts';
import { sendNotificationJob } from './send-notification.ts';
import { syncBillingJob } from './sync-billing.ts';

/** The handler of every job in the catalogue (src/queue/job-catalogue.ts); the compiler checks it. */
export const jobHandlers: JobHandlers = {
  'plans.generate': generatePlanJob,
  'notifications.send': sendNotificationJob,
  'notifications.broadcast': fanOutBroadcastJob,
  'metrics.recompute': recomputeMetricsJob,
  'billing.sync': syncBillingJob,
};

/**
 * Checked again at boot, for catalogues assembled at run time (tests add jobs): every job has
 * exactly one handler, no handler is for a job the catalogue does not know, and every payload
 * names its tenant.
 */
export function checkHandlers(
  catalogue: JobCatalogue = JOBS,
  handlers: Record<string, JobHandler<never>> = jobHandlers,
): void {
  const problems = catalogueProblems(catalogue);
  for (const name of Object.keys(catalogue))
    if (!handlers[name]) problems.push(`job "${name}" has no handler`);
  for (const name of Object.keys(handlers))
    if (!catalogue[name]) problems.push(`handler for unknown job "${name}"`);
  if (problems.length > 0) throw new Error(`Job catalogue is inconsistent: ${problems.join('; ')}`);
}
