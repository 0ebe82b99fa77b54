import { LockMode, type MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../config/logger.ts';
import { Outbox } from '../db/entities/index.ts';
import type { JobName } from './queue-catalogue.ts';
import { addJobs, type Queues } from './queues.ts';

export interface OutboxRelay {
  start(): void;
  stop(): Promise<void>;
  /** Ask for a publish pass now (after a commit) instead of waiting for the next poll. */
  nudge(): void;
  /** One pass; returns how many records were published. Exposed for tests and ops scripts. */
  publishBatch(): Promise<number>;
}

export interface OutboxRelayOptions {
  orm: MikroORM;
  queues: Queues;
  logger: Logger;
  pollMs: number;
  batchSize?: number;
}

/**
 * Copies committed outbox rows into BullMQ. Rows are claimed with FOR UPDATE SKIP LOCKED so any
 * number of relays (one per web and worker process) can run side by side; a row is marked
 * published only after Redis accepted the jobs, and job ids are stable, so a crash between the
 * two steps re-adds a job that BullMQ then ignores.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const batchSize = options.batchSize ?? 200;
  const log = options.logger.child({ component: 'outbox_relay' });
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let pendingNudge = false;
  let failing = false;

  async function publishBatch(): Promise<number> {
    const em = options.orm.em.fork({ clear: true });
    return em.transactional(async (tx) => {
      const rows = await tx.find(
        Outbox,
        { publishedAt: null },
        {
          orderBy: { id: 'asc' },
          limit: batchSize,
          lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE,
          filters: false,
        },
      );
      if (rows.length === 0) return 0;
      await addJobs(
        options.queues,
        rows.map((row) => ({ name: row.jobName as JobName, jobId: row.jobId, data: row.payload })),
      );
      await tx.nativeUpdate(
        Outbox,
        { id: { $in: rows.map((row) => row.id) } },
        { publishedAt: new Date() },
        { filters: false },
      );
      return rows.length;
    });
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (pendingNudge) {
        pendingNudge = false;
        resolve();
        return;
      }
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  async function run(): Promise<void> {
    let delay = options.pollMs;
    while (running) {
      try {
        const published = await publishBatch();
        if (failing) log.info({ event: 'outbox_relay_recovered' }, 'outbox relay publishing again');
        failing = false;
        delay = options.pollMs;
        if (published === batchSize) continue;
      } catch (error) {
        // Redis or PostgreSQL is down: rows stay unpublished and are retried with capped backoff.
        if (!failing)
          log.warn({ event: 'outbox_relay_failed', err: error }, 'outbox relay cannot publish; will retry');
        failing = true;
        delay = Math.min(Math.max(delay * 2, 250), 5_000);
      }
      if (running) await sleep(delay);
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
    nudge() {
      if (wake) wake();
      else pendingNudge = true;
    },
    publishBatch,
  };
}
