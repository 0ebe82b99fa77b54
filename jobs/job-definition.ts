import type { MikroORM } from '@mikro-orm/postgresql';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import type { PlanProvider } from '../src/ai/plan-provider.ts';
import type { Logger } from '../src/config/logger.ts';
import type { LiveEventPublisher } from '../src/domain/live-events.ts';
import type { Metrics } from '../src/observability/metrics.ts';
import type { JobName } from '../src/queue/queue-catalogue.ts';
import type { SendPacer } from '../src/queue/send-pacer.ts';
import type { TelegramSender } from '../src/telegram/telegram-sender.ts';

/** What a handler may use. Built once per worker process by a factory; no container. */
export interface JobDeps {
  orm: MikroORM;
  logger: Logger;
  planProvider: PlanProvider;
  telegram: TelegramSender;
  miniAppUrl: string | undefined;
  /** Spaces Telegram sends globally and per chat, across all worker processes. */
  pacer: SendPacer;
  /** Tell the outbox relay that a transaction just wrote outbox rows (publish now, not at the next poll). */
  onOutboxWritten?(): void;
  /** Live panel updates; absent where nothing listens (e.g. unit tests). */
  liveEvents?: JobLiveEvents;
  /** Fail-fast producer connection and key prefix, for caches and locks shared by every worker. */
  redis?: { client: Redis; keyPrefix: string };
  /** Prometheus metrics of this process; absent in unit tests. */
  metrics?: Metrics;
}

export interface JobLiveEvents extends LiveEventPublisher {
  /** True for the first caller per key within `ms`, across every worker process. */
  throttle(key: string, ms: number): Promise<boolean>;
}

export interface JobContext {
  jobId: string;
  /** Attempts already made before this one (0 on the first run). */
  attemptsMade: number;
  maxAttempts: number;
  log: Logger;
  /** Pause the whole queue, across every worker, because an upstream asked us to slow down. */
  pauseQueue(ms: number): Promise<void>;
  /**
   * Put the job back for `delayMs` without spending an attempt, merging `data` into its payload
   * first. Never returns: it throws BullMQ's DelayedError, which the handler must let through.
   */
  delay(delayMs: number, data?: Record<string, unknown>): Promise<never>;
}

/**
 * One job: its payload schema and a plain async handler. Payloads arrive as `unknown` and are
 * parsed before the handler sees them; a payload that does not parse fails without retries.
 */
export interface JobDefinition<Payload = unknown> {
  name: JobName;
  payload: z.ZodType<Payload>;
  handle(payload: Payload, deps: JobDeps, ctx: JobContext): Promise<void>;
  /** Runs once BullMQ has given up on the job (attempts exhausted, unrecoverable, stalled too often). */
  onFinalFailure?(payload: Payload, deps: JobDeps, error: Error): Promise<void>;
}

export function defineJob<Payload>(definition: JobDefinition<Payload>): JobDefinition<Payload> {
  return definition;
}
