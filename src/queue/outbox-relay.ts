import { LockMode, type MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../config/logger.ts';
import { isDependencyDown } from '../db/dependency-errors.ts';
import { Outbox } from '../db/entities/index.ts';
import { JOBS, type JobCatalogue, jobOptionsOf } from './job-catalogue.ts';
import { listenForOutboxWrites } from './outbox-listener.ts';
import type { Queues } from './queues.ts';

export interface OutboxRelay {
  start(): void;
  stop(): Promise<void>;
  /** Ask for a publish pass now instead of waiting for the next poll. */
  nudge(): void;
  /** One pass: how many fresh rows it claimed and how many rows it published. For tests and ops scripts. */
  publishBatch(): Promise<{ claimed: number; published: number }>;
}

export interface OutboxRelayOptions {
  orm: MikroORM;
  queues: Queues;
  logger: Logger;
  pollMs: number;
  batchSize?: number;
  catalogue?: JobCatalogue;
  /** Tries before a row that cannot be published is parked for an operator. */
  maxAttempts?: number;
  /** The shortest time between the starts of two passes woken by commits; see MIN_PASS_GAP_MS. */
  minPassGapMs?: number;
}

/**
 * Every commit that writes outbox rows wakes every relay (one per web and worker process). Under
 * load that is hundreds of wake-ups a second, and a relay that passed at each one would claim one
 * or two rows per transaction, or none (another relay holds them): at 100 surveys/s that was as
 * many statements as the surveys and plans themselves. A woken relay therefore starts its next
 * pass no sooner than this after its previous one began: at most this much added latency, and a
 * pass then takes the rows of every commit since. A quiet relay (no pass in the last gap) starts
 * at once, so a lone survey waits no longer than before.
 */
export const MIN_PASS_GAP_MS = 15;

/** Tries of one row before it is parked; with the backoff below that is about 8 seconds. */
export const OUTBOX_MAX_ATTEMPTS = 5;
const rowBackoffMs = (attempts: number) => Math.min(500 * 2 ** (attempts - 1), 60_000);

type Row = Outbox;

/** How often a parked row whose job this relay knows is tried again: from a minute, doubling to an hour. */
const parkedRetryMs = (attempts: number) =>
  Math.min(60_000 * 2 ** Math.max(0, attempts - OUTBOX_MAX_ATTEMPTS), 3_600_000);
const PARKED_BATCH = 20;

/**
 * Copies committed outbox rows into BullMQ. Rows are claimed with FOR UPDATE SKIP LOCKED so any
 * number of relays (one per web and worker process) can run side by side; a row is marked
 * published only after Redis accepted its job, and job ids are stable, so a crash between the
 * two steps re-adds a job that BullMQ then ignores.
 *
 * A row that cannot be published (a job this version does not know, e.g. during a rolling
 * deploy; a payload that fails its schema; Redis refusing that one job) is tried again later
 * with backoff, then parked with its error after OUTBOX_MAX_ATTEMPTS. It never blocks other rows:
 * rows waiting for a retry are not claimed. An outage (Redis or PostgreSQL down) spends no tries.
 * A parked row whose job this relay knows is tried again every minute, so rows an older version
 * parked during a rolling deploy are published by the new one without an operator (then less and
 * less often, up to hourly, while it keeps failing).
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const batchSize = options.batchSize ?? 200;
  const catalogue: JobCatalogue = options.catalogue ?? JOBS;
  const maxAttempts = options.maxAttempts ?? OUTBOX_MAX_ATTEMPTS;
  const minPassGapMs = options.minPassGapMs ?? MIN_PASS_GAP_MS;
  const log = options.logger.child({ component: 'outbox_relay' });
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let pendingNudge = false;
  let failing = false;
  let listener: { close(): Promise<void> } | undefined;

  /** The reason a row cannot become a job, or its BullMQ add. */
  function prepare(row: Row) {
    const spec = catalogue[row.jobName];
    if (!spec) return { row, problem: `unknown job "${row.jobName}"` };
    const parsed = spec.payload.safeParse(row.payload);
    if (!parsed.success) return { row, problem: `invalid payload: ${parsed.error.message.slice(0, 300)}` };
    return {
      row,
      queue: options.queues[spec.queue],
      job: { name: row.jobName, data: parsed.data, opts: jobOptionsOf(spec, parsed.data, row.jobId) },
    };
  }

  /** Adds a queue's jobs in one call; if Redis refuses the batch, one by one to find the culprit. */
  async function add(queueName: string, items: ReturnType<typeof prepare>[]) {
    const queue = items[0]!.queue!;
    const failures = new Map<Row, string>();
    try {
      await queue.addBulk(items.map((item) => item.job!));
    } catch (error) {
      if (isDependencyDown(error)) throw error;
      for (const item of items) {
        try {
          await queue.add(item.job!.name, item.job!.data, item.job!.opts);
        } catch (single) {
          if (isDependencyDown(single)) throw single;
          failures.set(
            item.row,
            `${queueName}: ${String((single as Error).message ?? single).slice(0, 300)}`,
          );
        }
      }
    }
    return failures;
  }

  async function publishBatch({
    parked = true,
  }: {
    parked?: boolean;
  } = {}): Promise<{ claimed: number; published: number }> {
    const em = options.orm.em.fork({ clear: true });
    return em.transactional(async (tx) => {
      const now = new Date();
      const due = { $or: [{ nextAttemptAt: null }, { nextAttemptAt: { $lte: now } }] };
      const claim = {
        lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE,
        filters: false,
        orderBy: { id: 'asc' },
      } as const;
      // Fresh rows first, a full batch of them; parked rows due for a retry come in a small batch of
      // their own, so however many there are they never crowd out new work.
      const fresh = await tx.find(
        Outbox,
        { publishedAt: null, parkedAt: null, ...due },
        { ...claim, limit: batchSize },
      );
      const parkedDue = parked
        ? await tx.find(
            Outbox,
            { publishedAt: null, parkedAt: { $ne: null }, jobName: { $in: Object.keys(catalogue) }, ...due },
            { ...claim, limit: PARKED_BATCH },
          )
        : [];
      const rows = [...fresh, ...parkedDue];
      if (rows.length === 0) return { claimed: 0, published: 0 };
      const prepared = rows.map(prepare);
      const problems = new Map<Row, string>();
      const byQueue = new Map<string, ReturnType<typeof prepare>[]>();
      for (const item of prepared) {
        if (item.problem) problems.set(item.row, item.problem);
        else byQueue.set(item.queue!.name, [...(byQueue.get(item.queue!.name) ?? []), item]);
      }
      for (const [queueName, items] of byQueue) {
        for (const [row, problem] of await add(queueName, items)) problems.set(row, problem);
      }
      const published = rows.filter((row) => !problems.has(row));
      if (published.length > 0) {
        await tx.nativeUpdate(
          Outbox,
          { id: { $in: published.map((row) => row.id) } },
          { publishedAt: now },
          { filters: false },
        );
      }
      for (const [row, problem] of problems) {
        const attempts = row.attempts + 1;
        const wasParked = row.parkedAt != null;
        const parked = wasParked || attempts >= maxAttempts;
        await tx.nativeUpdate(
          Outbox,
          { id: row.id },
          {
            attempts,
            lastError: problem,
            nextAttemptAt: new Date(
              now.getTime() + (parked ? parkedRetryMs(attempts) : rowBackoffMs(attempts)),
            ),
            parkedAt: wasParked ? row.parkedAt : parked ? now : null,
          },
          { filters: false },
        );
        const fields = { outboxId: row.id, jobName: row.jobName, jobId: row.jobId, attempts, err: problem };
        if (wasParked)
          log.debug({ event: 'outbox_parked_row_failed', ...fields }, 'parked outbox row still fails');
        else if (parked)
          log.error({ event: 'outbox_row_parked', ...fields }, 'outbox row parked; see the runbook');
        else log.warn({ event: 'outbox_row_failed', ...fields }, 'outbox row not published; will retry');
      }
      return { claimed: fresh.length, published: published.length };
    });
  }

  /** Resolves the current sleep at once (stop); `wake` is what a nudge calls. */
  let interrupt: (() => void) | undefined;
  let lastPassAt = 0;

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      function done() {
        clearTimeout(timer);
        wake = undefined;
        interrupt = undefined;
        resolve();
      }
      // Woken by a commit: pass now, or once MIN_PASS_GAP_MS has gone by since the last pass began.
      function woken() {
        const gap = lastPassAt + minPassGapMs - performance.now();
        if (gap <= 0) return done();
        // Commits during the gap need nothing more: the pass that ends it starts after them.
        wake = () => {};
        clearTimeout(timer);
        timer = setTimeout(done, gap);
      }
      interrupt = done;
      if (pendingNudge) {
        pendingNudge = false;
        woken();
        return;
      }
      timer = setTimeout(done, ms);
      wake = woken;
    });
  }

  async function run(): Promise<void> {
    let delay = options.pollMs;
    // Parked rows wait a minute or more between tries: looking for them once per poll is plenty,
    // and keeps that query out of the passes commits cause.
    let parkedCheckedAt = Number.NEGATIVE_INFINITY;
    while (running) {
      try {
        lastPassAt = performance.now();
        const parked = lastPassAt - parkedCheckedAt >= options.pollMs;
        if (parked) parkedCheckedAt = lastPassAt;
        const { claimed } = await publishBatch({ parked });
        if (failing) log.info({ event: 'outbox_relay_recovered' }, 'outbox relay publishing again');
        failing = false;
        delay = options.pollMs;
        // A full batch of fresh rows: there may be more behind it.
        if (claimed === batchSize) continue;
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

  function nudge() {
    if (wake) wake();
    else pendingNudge = true;
  }

  return {
    start() {
      if (running) return;
      running = true;
      listener = listenForOutboxWrites(options.orm, nudge, log);
      loop = run();
    },
    async stop() {
      running = false;
      interrupt?.();
      await Promise.all([loop, listener?.close()]);
    },
    nudge,
    publishBatch: () => publishBatch(),
  };
}
