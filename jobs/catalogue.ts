import { JOB_QUEUES, type JobName, type QueueName } from '../src/queue/queue-catalogue.ts';
import { fanOutBroadcastJob } from './fan-out-broadcast.ts';
import { generatePlanJob } from './generate-plan.ts';
import type { JobDefinition } from './job-definition.ts';
import { recomputeMetricsJob } from './recompute-metrics.ts';
import { sendNotificationJob } from './send-notification.ts';

/** Every handler the workers know. Adding a job: write jobs/<name>.ts, add it here and to JOB_QUEUES. */
export const jobDefinitions: JobDefinition<unknown>[] = [
  generatePlanJob,
  sendNotificationJob,
  fanOutBroadcastJob,
  recomputeMetricsJob,
];

export type JobCatalogue = Map<JobName, JobDefinition<unknown>>;

/** Checked at boot: every declared job has exactly one handler, and no handler is for an unknown job. */
export function buildJobCatalogue(definitions: JobDefinition<unknown>[] = jobDefinitions): JobCatalogue {
  const catalogue: JobCatalogue = new Map();
  const problems: string[] = [];
  for (const definition of definitions) {
    if (!(definition.name in JOB_QUEUES)) problems.push(`handler for unknown job "${definition.name}"`);
    else if (catalogue.has(definition.name)) problems.push(`job "${definition.name}" has two handlers`);
    else catalogue.set(definition.name, definition);
  }
  for (const name of Object.keys(JOB_QUEUES) as JobName[]) {
    if (!catalogue.has(name)) problems.push(`job "${name}" has no handler`);
  }
  if (problems.length > 0) throw new Error(`Job catalogue is inconsistent: ${problems.join('; ')}`);
  return catalogue;
}

export function jobsOfQueue(catalogue: JobCatalogue, queue: QueueName): JobName[] {
  return [...catalogue.keys()].filter((name) => JOB_QUEUES[name] === queue);
}
