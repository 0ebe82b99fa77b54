import type { EntityManager } from '../db/orm.ts';

/**
 * Each tenant's billing_sync_state row: how far the Stars sync has read Telegram's transaction
 * list, and how the last run ended (for operators, next to billing_sync_failures_total). The row
 * is created by whichever write comes first.
 */

export interface BillingSyncState {
  starTransactionsOffset: number;
  lastSuccessAt: Date | null;
  lastFailureAt: Date | null;
  lastError: string | null;
}

const LAST_ERROR_MAX = 500;

export async function readBillingSyncState(em: EntityManager, tenantId: string): Promise<BillingSyncState> {
  const [row] = await em.getConnection().execute<
    {
      star_transactions_offset: number;
      last_success_at: Date | null;
      last_failure_at: Date | null;
      last_error: string | null;
    }[]
  >('select * from billing_sync_state where tenant_id = ?', [tenantId], 'all');
  return {
    starTransactionsOffset: row?.star_transactions_offset ?? 0,
    lastSuccessAt: row?.last_success_at ?? null,
    lastFailureAt: row?.last_failure_at ?? null,
    lastError: row?.last_error ?? null,
  };
}

/**
 * Called after a page's effects committed. `greatest` keeps the offset from moving back when two
 * runs of the same tenant overlap (a scheduled one and one a refund asked for): the slower one
 * re-reads a page at worst, and re-recording a charge is a no-op.
 */
export async function advanceStarOffset(em: EntityManager, tenantId: string, offset: number): Promise<void> {
  await em.getConnection().execute(
    `insert into billing_sync_state (tenant_id, star_transactions_offset) values (?, ?)
     on conflict (tenant_id) do update set star_transactions_offset =
       greatest(billing_sync_state.star_transactions_offset, excluded.star_transactions_offset)`,
    [tenantId, offset],
    'run',
  );
}

export async function recordSyncSuccess(em: EntityManager, tenantId: string, at: Date): Promise<void> {
  await em.getConnection().execute(
    `insert into billing_sync_state (tenant_id, last_success_at) values (?, ?)
     on conflict (tenant_id) do update set last_success_at = excluded.last_success_at`,
    [tenantId, at],
    'run',
  );
}

/** Keeps last_success_at, so "failing since" is last_failure_at with an older last_success_at. */
export async function recordSyncFailure(
  em: EntityManager,
  tenantId: string,
  at: Date,
  error: string,
): Promise<void> {
  await em.getConnection().execute(
    `insert into billing_sync_state (tenant_id, last_failure_at, last_error) values (?, ?, ?)
     on conflict (tenant_id) do update set last_failure_at = excluded.last_failure_at,
       last_error = excluded.last_error`,
    [tenantId, at, error.slice(0, LAST_ERROR_MAX)],
    'run',
  );
}
