import type { MikroORM } from '@mikro-orm/postgresql';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import type { PlanProvider } from '../src/ai/plan-provider.ts';
import type { TenantAiBudget } from '../src/ai/tenant-ai-budget.ts';
import type { BillingSyncDeps } from '../src/billing/billing-sync.ts';
import type { Logger } from '../src/config/logger.ts';
import type { ThrottledLiveEvents } from '../src/domain/live-events.ts';
import type { Metrics } from '../src/observability/metrics.ts';
import type { AppJobs, JobCatalogue, JobName } from '../src/queue/job-catalogue.ts';
import type { TenantDirectory } from '../src/tenants/tenant-directory.ts';
import type { TenantBots } from '../workers/tenant-bots.ts';

/** What a handler may use. Built once per worker process by a factory; no container, nothing optional. */
export interface JobDeps {
  orm: MikroORM;
  logger: Logger;
  /** Limited by AI_REQUESTS_PER_MINUTE across every worker; the tenant's own budget is aiBudget. */
  planProvider: PlanProvider;
  /** Each tenant's AI requests per minute and plans per day. */
  aiBudget: TenantAiBudget;
  /** Every tenant as this process sees it (URLs such as the tenant's Mini App, budgets). */
  tenants: TenantDirectory;
  /** Each tenant's own bot: a sender and that bot's pacer (Telegram's limits are per bot). */
  bots: TenantBots;
  liveEvents: ThrottledLiveEvents;
  /** Fail-fast producer connection and key prefix, for caches and locks shared by every worker. */
  redis: { client: Redis; keyPrefix: string };
  metrics: Metrics;
  /** The tenant's billing provider and the sync's limits (billing.sync). */
  billing: BillingSyncDeps;
}

/** The handler's whole interface to the queue; workers/job-runner.ts translates it to BullMQ. */
export interface JobContext {
  jobId: string;
  /** Attempts already made before this one (0 on the first run). */
  attemptsMade: number;
  maxAttempts: number;
  log: Logger;
  /** Retry no sooner than `ms` from now; spends an attempt (the upstream failed). */
  retryAfter(ms: number, reason: string): never;
  /**
   * An upstream asked everyone to slow down: pause the whole queue on every worker, for every
   * tenant; no attempt spent. Never for a condition of one tenant (its bot, its AI budget): delay.
   */
  rateLimited(ms: number): never;
  /** Run again in `ms` without spending an attempt, merging `data` into the payload first. */
  delay(ms: number, data?: Record<string, unknown>): never;
  /** Retrying cannot fix this: fail now (the final-failure transition runs). */
  fail(reason: string): never;
}

/**
 * One job's handler: a plain async function of its parsed payload. Payloads arrive as `unknown`
 * and are parsed by the runner with the catalogue's schema before the handler sees them.
 */
export interface JobHandler<P = unknown> {
  handle(payload: P, deps: JobDeps, ctx: JobContext): Promise<void>;
  /**
   * Runs once the job has given up (attempts exhausted, unrecoverable, or found by the reconciler);
   * resolves to whether it changed anything (false: already settled).
   */
  onFinalFailure?(payload: P, deps: JobDeps, error: Error): Promise<boolean>;
}

export type PayloadOut<C extends JobCatalogue, N extends keyof C> = z.output<C[N]['payload']>;

/** Handlers for every job of a catalogue: exactly one each, checked by the compiler. */
export type JobHandlers<C extends JobCatalogue = AppJobs> = { [N in keyof C]: JobHandler<PayloadOut<C, N>> };

/** Types a handler from its catalogue entry: `defineJob('plans.generate', { handle })`. */
export function defineJob<N extends JobName>(
  _name: N,
  handler: JobHandler<PayloadOut<AppJobs, N>>,
): JobHandler<PayloadOut<AppJobs, N>> {
  return handler;
}
