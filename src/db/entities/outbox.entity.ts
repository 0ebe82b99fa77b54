import { defineEntity, p } from '@mikro-orm/postgresql';

/**
 * Jobs written in the same transaction as the change that caused them; the relay copies them
 * into BullMQ. This is what lets the API answer 202 while Redis is down without losing work.
 */
export const OutboxSchema = defineEntity({
  name: 'Outbox',
  tableName: 'outbox',
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    tenantId: p.uuid(),
    queue: p.string().length(64),
    jobName: p.string().length(128),
    /** BullMQ job id; stable, so publishing twice adds the job once. */
    jobId: p.string().length(200).unique(),
    payload: p.json<Record<string, unknown>>(),
    attempts: p.integer().default(0),
    lastError: p.text().nullable(),
    /** A row that failed to publish waits until then, so it never holds back the rows behind it. */
    nextAttemptAt: p.datetime().nullable(),
    /** Set after bounded tries: an operator looks at it (`outbox_parked` gauge, runbook). */
    parkedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    publishedAt: p.datetime().nullable(),
  },
});
export class Outbox extends OutboxSchema.class {}
OutboxSchema.setClass(Outbox);
