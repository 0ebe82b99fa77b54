import test from 'ava';
import { Queue } from 'bullmq';
import { z } from 'zod';
import { jobHandlers } from '../jobs/catalogue.ts';
import type { JobHandler } from '../jobs/job-definition.ts';
import { Outbox } from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import { JOBS, type JobSpec } from '../src/queue/job-catalogue.ts';
import { createOutboxWriter } from '../src/queue/outbox-writer.ts';
import type { Handlers } from '../workers/job-runner.ts';
import { TEST_REDIS_URL } from './helpers/test-database.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

/**
 * The recipe in docs/architecture.md, followed by a test: a job is one catalogue entry plus one
 * handler. Nothing else is edited, and the job is produced through the outbox, relayed, consumed
 * and, when Redis loses it, reconciled.
 */
const done = new Set<string>();
const runs: string[] = [];

const echoSpec: JobSpec<z.ZodObject<{ tenantId: z.ZodUUID; word: z.ZodString }>> = {
  queue: 'metrics',
  payload: z.object({ tenantId: z.uuid(), word: z.string() }),
  jobId: (payload) => `echo-${payload.word}`,
  // Its unfinished work, as a real job would find it in its own table.
  async findStuck() {
    return ['hello', 'lost']
      .filter((word) => !done.has(word))
      .map((word) => ({ tenantId: DEFAULT_TENANT_ID, word }));
  },
};
const echoHandler: JobHandler<{ tenantId: string; word: string }> = {
  async handle({ word }) {
    runs.push(word);
    done.add(word);
  },
};
const catalogue = { ...JOBS, 'test.echo': echoSpec };
const handlers = { ...jobHandlers, 'test.echo': echoHandler } as Handlers;
const writer = createOutboxWriter(catalogue);

let system: TestSystem;
test.before(async () => {
  system = await startTestSystem({
    jobs: { catalogue, handlers },
    env: { STALE_WORK_MS: '100', RECONCILE_INTERVAL_MS: '3600000' },
  });
});
test.after.always(async () => {
  await system?.stop();
});

test.serial('a job added to the catalogue is produced, relayed and consumed', async (t) => {
  const em = system.em();
  await em.transactional(async (tx) => {
    writer.enqueue(tx, 'test.echo', { tenantId: DEFAULT_TENANT_ID, word: 'hello' });
  });
  await waitFor('the handler ran', () => runs.includes('hello'));
  // The worker may take the job before the relay has marked its row published: wait for both.
  await waitFor('the row is marked published', async () =>
    Boolean((await system.em().findOne(Outbox, { jobId: 'echo-hello' }))?.publishedAt),
  );
  const row = await system.em().findOneOrFail(Outbox, { jobId: 'echo-hello' });
  t.truthy(row.publishedAt);
  t.is(row.jobName, 'test.echo');
  // A producer cannot write a payload its consumer would refuse.
  await t.throwsAsync(
    system.em().transactional(async (tx) => {
      writer.enqueue(tx, 'test.echo', { tenantId: DEFAULT_TENANT_ID, word: 42 as unknown as string });
    }),
  );
});

test.serial('and reconciled when Redis loses it', async (t) => {
  const em = system.em();
  await em.transactional(async (tx) => {
    writer.enqueue(tx, 'test.echo', { tenantId: DEFAULT_TENANT_ID, word: 'lost' });
  });
  const queue = new Queue('metrics', {
    connection: { url: TEST_REDIS_URL },
    prefix: system.config.redis.queuePrefix,
  });
  t.teardown(() => queue.close());
  await waitFor(
    'published',
    async () => (await system.em().findOne(Outbox, { jobId: 'echo-lost' }))?.publishedAt,
  );
  await waitFor('ran once', () => runs.includes('lost'));
  // Pretend it never ran and the job vanished: the reconciler finds unfinished work without a job.
  done.delete('lost');
  await queue.remove('echo-lost');
  const result = await system.worker!.reconciler.reconcileOnce();
  t.is(result.requeued, 1);
  await waitFor('ran again', () => runs.filter((word) => word === 'lost').length === 2);
});
