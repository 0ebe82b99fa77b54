import type { MikroORM } from '@mikro-orm/postgresql';
import { tenantScopedEntities } from '../db/entities/index.ts';
import { DEFAULT_TENANT_ID } from '../db/orm.ts';
import { TenantInputError } from './tenant-admin.ts';

export interface TenantRows {
  table: string;
  rows: number;
}

/**
 * Every table holding a tenant's data, children before parents. The database says which tables
 * have a tenant_id (some, like billing_sync_state and stars_checkout, have no entity); those without
 * an entity go first, then the entities in reverse creation order. Most foreign keys are deferrable
 * (checked at commit), but subscription → subscription_plan and star_payment → subscription/plan
 * are not, so the order still matters for them.
 */
async function tenantTables(orm: MikroORM): Promise<string[]> {
  const byEntity = [...tenantScopedEntities].reverse().map((schema) => {
    const meta = orm.getMetadata().getByClassName(schema.meta.className, false);
    if (!meta?.properties.tenantId) throw new Error(`${schema.meta.className} has no tenant_id`);
    return meta.tableName;
  });
  const columns = await orm.em.getConnection().execute<{ table_name: string }[]>(
    `select table_name from information_schema.columns
     where column_name = 'tenant_id' and table_schema = current_schema() order by table_name`,
  );
  const withoutEntity = columns.map((row) => row.table_name).filter((table) => !byEntity.includes(table));
  return [...withoutEntity, ...byEntity];
}

/** Every un-prefixed URL and TELEGRAM_BOT_TOKEN belong to the default tenant: it always stays. */
function refuseDefaultTenant(tenantId: string): void {
  if (tenantId === DEFAULT_TENANT_ID) {
    throw new TenantInputError('default_tenant', 'The default tenant cannot be removed.');
  }
}

/** What tenant:remove would delete: rows per table (tables with none included). */
export async function countTenantRows(orm: MikroORM, tenantId: string): Promise<TenantRows[]> {
  refuseDefaultTenant(tenantId);
  const connection = orm.em.getConnection();
  const counts: TenantRows[] = [];
  for (const table of await tenantTables(orm)) {
    const [row] = await connection.execute<{ rows: string }[]>(
      `select count(*) as rows from "${table}" where tenant_id = ?`,
      [tenantId],
    );
    counts.push({ table, rows: Number(row?.rows ?? 0) });
  }
  return counts;
}

/**
 * Deletes a tenant and all its data in one transaction: either the coach is gone entirely or
 * nothing changed. The default tenant is refused. Jobs of this tenant already queued in Redis are
 * not touched here: the workers, which own the queues, find no tenant for them.
 */
export async function removeTenant(orm: MikroORM, tenantId: string): Promise<TenantRows[]> {
  refuseDefaultTenant(tenantId);
  const tables = await tenantTables(orm);
  return orm.em.fork({ clear: true }).transactional(async (tx) => {
    const connection = tx.getConnection();
    const ctx = tx.getTransactionContext();
    await connection.execute('set constraints all deferred', [], 'run', ctx);
    const deleted: TenantRows[] = [];
    for (const table of tables) {
      const result = await connection.execute<{ affectedRows: number }>(
        `delete from "${table}" where tenant_id = ?`,
        [tenantId],
        'run',
        ctx,
      );
      deleted.push({ table, rows: result.affectedRows });
    }
    const tenant = await connection.execute<{ affectedRows: number }>(
      'delete from tenant where id = ?',
      [tenantId],
      'run',
      ctx,
    );
    if (tenant.affectedRows !== 1) throw new TenantInputError('not_found', 'The tenant no longer exists.');
    return deleted;
  });
}
