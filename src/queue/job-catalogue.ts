import type { DefaultJobOptions } from 'bullmq';
import { z } from 'zod';
import type { Config } from '../config/env.ts';
import { Broadcast, Notification, PersonalPlan } from '../db/entities/index.ts';
import type { EntityManager } from '../db/orm.ts';

/**
 * The one catalogue of background work: every queue with its worker limits and job options, and
 * every job with its queue, payload schema and stable job id. Producers (`enqueue`), the outbox
 * relay, the workers, the reconciler and `WORKER_QUEUES` are all derived from it.
 *
 * Adding a job: one entry in JOBS, one handler file in jobs/ (see docs/architecture.md).
 */

/** Options every job gets; retention keeps Bull Board useful without growing Redis forever. */
const COMMON: DefaultJobOptions = {
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
  backoff: { type: 'custom' },
};

/** BullMQ ignores queue.rateLimit() on a worker without a limiter; this one never binds. */
const PAUSABLE = { max: 1_000_000, duration: 1_000 };

export interface QueueSpec {
  /** Jobs in parallel per worker process. */
  concurrency(config: Config): number;
  /** A limiter BullMQ enforces across every worker of the queue; it exists so a queue can be paused. */
  limiter?(config: Config): { max: number; duration: number };
  jobOptions(config: Config): DefaultJobOptions;
}

export const QUEUES = {
  plans: {
    concurrency: (config) => config.plans.workerConcurrency,
    // Never binds (AI calls are limited where they are made); it lets ctx.rateLimited pause the queue.
    limiter: () => PAUSABLE,
    jobOptions: (config) => ({ ...COMMON, attempts: config.plans.attempts }),
  },
  notifications: {
    concurrency: (config) => config.notifications.workerConcurrency,
    // The precise pacing is each bot's SendPacer (Telegram's limits are per bot). A 429 or 401
    // pauses only that bot's pacer, never this queue, which every tenant's messages share.
    limiter: () => PAUSABLE,
    jobOptions: () => ({ ...COMMON, attempts: 8 }),
  },
  metrics: {
    // Several tenants at once; one tenant at a time is the job's own per-tenant lock.
    concurrency: () => 2,
    limiter: () => PAUSABLE,
    // A snapshot is recomputed every few minutes anyway: a few retries, short retention.
    jobOptions: () => ({
      ...COMMON,
      attempts: 3,
      removeOnComplete: { age: 3600, count: 1_000 },
      removeOnFail: { age: 24 * 3600 },
    }),
  },
  billing: {
    // One tenant's sync at a time per worker is plenty: each run is a handful of paged calls.
    concurrency: () => 2,
    limiter: () => PAUSABLE,
    jobOptions: () => ({
      ...COMMON,
      attempts: 5,
      removeOnComplete: { age: 24 * 3600, count: 1_000 },
    }),
  },
} as const satisfies Record<string, QueueSpec>;

export type QueueName = keyof typeof QUEUES;
export const QUEUE_NAMES = Object.keys(QUEUES) as QueueName[];

type TenantPayload = z.ZodType<{ tenantId: string }>;

export interface JobSpec<S extends TenantPayload = TenantPayload> {
  queue: QueueName;
  /** Every payload names its tenant: jobs run under that tenant's filter and budget. */
  payload: S;
  /** Stable, so publishing twice (or re-adding from the reconciler) enqueues the job once. No `:`. */
  jobId(payload: z.output<S>): string;
  /**
   * Work this job owns that is unfinished and untouched since `before`: the reconciler re-adds
   * its job when Redis lost it, or finishes its lifecycle when BullMQ gave up without saying so.
   */
  findStuck?(em: EntityManager, before: Date): Promise<z.output<S>[]>;
  /**
   * BullMQ priority (1 = first of the prioritized); undefined: none, and BullMQ takes jobs
   * without a priority before every prioritized one.
   */
  priority?(payload: z.output<S>): number | undefined;
  /** Run for every tenant on a schedule (a BullMQ job scheduler per tenant), besides on demand. */
  perTenantSchedule?: {
    everyMs(config: Config): number;
    /** Stable: upserting it again (every worker start) replaces the schedule instead of adding one. */
    schedulerId(tenantId: string): string;
  };
}

const job = <S extends TenantPayload>(spec: JobSpec<S>) => spec;
const tenantId = z.uuid();

/** Domain events coalesce into one metrics recompute per tenant per window (docs/panel.md). */
export const METRICS_TRIGGER_WINDOW_MS = 10_000;

const STUCK_LIMIT = 500;
/** Broadcast messages are prioritized jobs; transactional ones have none and go first. */
const BULK_PRIORITY = 10;
const stuck = { limit: STUCK_LIMIT, filters: false, fields: ['id', 'tenantId'] } as const;

export const JOBS = {
  'plans.generate': job({
    queue: 'plans',
    payload: z.object({ tenantId, planId: z.uuid() }),
    jobId: (p) => `plan-${p.planId}`,
    async findStuck(em, before) {
      const rows = await em.find(
        PersonalPlan,
        { status: { $in: ['queued', 'generating'] }, updatedAt: { $lt: before } },
        stuck,
      );
      return rows.map((row) => ({ tenantId: row.tenantId, planId: row.id }));
    },
  }),
  'notifications.send': job({
    queue: 'notifications',
    payload: z.object({
      tenantId,
      notificationId: z.uuid(),
      /** Set by the pacer when it reserved this bot's and chat's slot and delayed the job until then. */
      sendSlotAt: z.number().optional(),
      /** A broadcast's message: sent after every transactional one waiting (plan ready, payments). */
      bulk: z.boolean().optional(),
    }),
    jobId: (p) => `notification-${p.notificationId}`,
    // One coach's 1,000-recipient broadcast must not hold back another coach's plan message.
    priority: (p) => (p.bulk ? BULK_PRIORITY : undefined),
    async findStuck(em, before) {
      const rows = await em.find(
        Notification,
        { status: { $in: ['pending', 'sending'] }, updatedAt: { $lt: before } },
        { ...stuck, fields: ['id', 'tenantId', 'broadcastId'] },
      );
      return rows.map((row) => ({
        tenantId: row.tenantId,
        notificationId: row.id,
        ...(row.broadcastId ? { bulk: true } : {}),
      }));
    },
  }),
  'notifications.broadcast': job({
    queue: 'notifications',
    payload: z.object({ tenantId, broadcastId: z.uuid() }),
    jobId: (p) => `broadcast-${p.broadcastId}`,
    async findStuck(em, before) {
      const rows = await em.find(
        Broadcast,
        { status: 'fanning_out', createdAt: { $lt: before } },
        { ...stuck, limit: 100 },
      );
      return rows.map((row) => ({ tenantId: row.tenantId, broadcastId: row.id }));
    },
  }),
  'metrics.recompute': job({
    queue: 'metrics',
    payload: z.object({
      tenantId,
      /** Set by event triggers: the end of their coalescing window (epoch ms). */
      notBefore: z.number().int().optional(),
    }),
    // One job per tenant per window: every event of the window maps to the same id.
    jobId: (p) => `metrics-${p.tenantId}-${p.notBefore ?? 'now'}`,
    perTenantSchedule: {
      everyMs: (config) => config.metrics.intervalMs,
      schedulerId: (tenantId) => `metrics-${tenantId}`,
    },
  }),
  'billing.sync': job({
    queue: 'billing',
    payload: z.object({
      tenantId,
      /** Only these users (Telegram ids), e.g. named by the billing webhook; absent: everyone. */
      telegramIds: z
        .array(z.string().regex(/^\d{1,20}$/))
        .min(1)
        .max(1000)
        .optional(),
      /** What asked for it; on-demand runs name their request so a redelivered one is the same job. */
      trigger: z.enum(['schedule', 'webhook', 'panel', 'payment']).default('schedule'),
      requestKey: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,64}$/)
        .optional(),
    }),
    jobId: (p) => `billing-${p.tenantId}-${p.trigger}-${p.requestKey ?? 'now'}`,
    perTenantSchedule: {
      everyMs: (config) => config.billing.syncIntervalMs,
      schedulerId: (tenantId) => `billing-${tenantId}`,
    },
  }),
} as const;

export type JobCatalogue = Record<string, JobSpec>;

/** BullMQ options of one job: its stable id and, for bulk work, its priority. */
export function jobOptionsOf(
  spec: JobSpec,
  payload: unknown,
  jobId: string,
): { jobId: string; priority?: number } {
  const priority = spec.priority?.(payload as never);
  return priority ? { jobId, priority } : { jobId };
}

/**
 * Every payload names its tenant (the type says so; catalogues assembled at run time, as tests
 * do, are checked here): a job without one would run under no tenant's filter, bot or budget.
 */
export function catalogueProblems(catalogue: JobCatalogue): string[] {
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(catalogue)) {
    const shape = (spec.payload as unknown as { shape?: Record<string, z.ZodType> }).shape;
    const tenantField = shape?.tenantId;
    if (!tenantField || tenantField.safeParse(undefined).success)
      problems.push(`job "${name}" has no required tenantId in its payload`);
  }
  return problems;
}
export type AppJobs = typeof JOBS;
export type JobName = keyof AppJobs;
export type PayloadOf<N extends JobName> = z.input<AppJobs[N]['payload']>;
