import type { EntityManager } from '../db/orm.ts';

export interface OutboxStatus {
  pending: number;
  oldestAgeSeconds: number;
  parked: number;
}

/**
 * What the outbox holds back: rows waiting to be published, how old the oldest is, and rows
 * parked for an operator.
 */
export async function readOutboxStatus(em: EntityManager): Promise<OutboxStatus> {
  const connection = em.getConnection();
  // Two queries, each matching one partial index: published rows (a week of history) are never read.
  const [pending] = await connection.execute<{ pending: string; oldest_age_seconds: string | null }[]>(
    `select count(*) as pending, extract(epoch from now() - min(created_at)) as oldest_age_seconds
       from outbox where published_at is null and parked_at is null`,
  );
  const [parked] = await connection.execute<{ parked: string }[]>(
    'select count(*) as parked from outbox where parked_at is not null and published_at is null',
  );
  return {
    pending: Number(pending?.pending ?? 0),
    oldestAgeSeconds: Math.max(0, Number(pending?.oldest_age_seconds ?? 0)),
    parked: Number(parked?.parked ?? 0),
  };
}
