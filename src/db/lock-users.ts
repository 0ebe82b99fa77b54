import type { EntityManager } from './orm.ts';

/**
 * Locks telegram_user rows for the rest of the transaction with FOR NO KEY UPDATE, not FOR UPDATE.
 * Both serialise writers of the row, but FOR UPDATE also blocks the FOR KEY SHARE lock PostgreSQL
 * takes to check a foreign key into the row, and ours are checked at commit (deferred). A
 * transaction holding FOR UPDATE on a user and waiting on a row another transaction inserted
 * (e.g. the shared metrics trigger), while that one checks its notification's user at commit,
 * is a deadlock; with NO KEY UPDATE it is just a wait.
 */
export async function lockUsers(
  tx: EntityManager,
  tenantId: string,
  where: { id: string } | { telegramId: string } | { role: 'owner' },
): Promise<void> {
  const [column, value] = Object.entries(where)[0]!;
  const sql = { id: 'id', telegramId: 'telegram_id', role: 'role' }[column]!;
  await tx.execute(
    `select id from telegram_user where ${sql} = ? and tenant_id = ? for no key update`,
    [value, tenantId],
    'all',
  );
}
