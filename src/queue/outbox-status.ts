import type { EntityManager } from '../db/orm.ts';

export interface OutboxStatus {
  pending: number;
  oldestAgeSeconds: number;
  parked: number;
}

/**
 * What the outbox holds back: rows waiting to be published, how old the oldest is, and rows
 * parked for an operator. One scan of the unpublished rows (a handful when healthy).
 */
export async function readOutboxStatus(em: EntityManager): Promise<OutboxStatus> {
  const [row] = await em
    .getConnection()
    .execute<{ pending: string; oldest_age_seconds: string | null; parked: string }[]>(
      `select count(*) filter (where parked_at is null) as pending,
            extract(epoch from now() - min(created_at) filter (where parked_at is null)) as oldest_age_seconds,
            count(*) filter (where parked_at is not null) as parked
       from outbox where published_at is null`,
    );
  return {
    pending: Number(row?.pending ?? 0),
    oldestAgeSeconds: Math.max(0, Number(row?.oldest_age_seconds ?? 0)),
    parked: Number(row?.parked ?? 0),
  };
}
