import type { z } from 'zod';
import { Outbox } from '../db/entities/index.ts';
import type { EntityManager } from '../db/orm.ts';
import { JOBS, type JobCatalogue } from './job-catalogue.ts';

/**
 * Producers write jobs to the outbox in their own transaction, typed by the catalogue, so a job
 * exists exactly when the change that caused it commits. Publishing needs no call from the
 * producer: a trigger on the outbox table wakes every relay when the transaction commits.
 */
export function createOutboxWriter<C extends JobCatalogue>(catalogue: C) {
  type Name = keyof C & string;
  type Payload<N extends Name> = z.input<C[N]['payload']> & { tenantId: string };

  function fields<N extends Name>(name: N, payload: Payload<N>) {
    const spec = catalogue[name];
    if (!spec) throw new Error(`unknown job "${name}"`);
    // A producer bug (wrong payload) fails the producer's transaction, not a worker later.
    const parsed = spec.payload.parse(payload);
    return {
      queue: spec.queue,
      jobName: name,
      jobId: spec.jobId(parsed),
      payload: parsed as Record<string, unknown>,
    };
  }

  return {
    /** Adds the job to the caller's unit of work; it is written with the caller's flush. */
    enqueue<N extends Name>(tx: EntityManager, name: N, payload: Payload<N>, now = new Date()): void {
      tx.create(Outbox, { tenantId: payload.tenantId, ...fields(name, payload), createdAt: now });
    },

    /**
     * Writes jobs now, skipping any whose id is already in the outbox: for jobs that many events
     * share (one metrics recompute per window) or that a resumed batch may write again. Returns
     * how many rows were new.
     */
    async enqueueOnce<N extends Name>(
      tx: EntityManager,
      name: N,
      payloads: Payload<N>[],
      now = new Date(),
    ): Promise<number> {
      if (payloads.length === 0) return 0;
      const rows = payloads.map((payload) => ({ tenantId: payload.tenantId, ...fields(name, payload) }));
      const values = rows.map(() => '(?, ?, ?, ?, ?, 0, ?)').join(', ');
      const params = rows.flatMap((row) => [
        row.tenantId,
        row.queue,
        row.jobName,
        row.jobId,
        JSON.stringify(row.payload),
        now,
      ]);
      const result = await tx.execute<{ affectedRows: number }>(
        `insert into outbox (tenant_id, queue, job_name, job_id, payload, attempts, created_at)
          values ${values} on conflict (job_id) do nothing`,
        params,
        'run',
      );
      return result.affectedRows;
    },

    /**
     * The outbox row of a job, checked like enqueue's, for a producer that writes it in a statement
     * of its own (submitSurvey inserts it with the rows that caused it, in one round trip).
     */
    rowOf<N extends Name>(name: N, payload: Payload<N>) {
      return { tenantId: payload.tenantId, ...fields(name, payload) };
    },

    /** The id the job gets, e.g. to look it up in BullMQ. */
    jobIdOf<N extends Name>(name: N, payload: Payload<N>): string {
      return fields(name, payload).jobId;
    },
  };
}

const writer = createOutboxWriter(JOBS);

/** Typed from the catalogue: `enqueue(tx, 'plans.generate', { tenantId, planId })`. */
export const { enqueue, enqueueOnce, jobIdOf, rowOf: outboxRowOf } = writer;
