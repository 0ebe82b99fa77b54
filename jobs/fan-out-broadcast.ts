import { Broadcast } from '../src/db/entities/index.ts';
import { forkForTenant } from '../src/db/orm.ts';
import { enqueueOnce } from '../src/queue/outbox-writer.ts';
import { defineJob } from './job-definition.ts';

/** Recipients per transaction: bounds memory and lock time whatever the audience size. */
export const FAN_OUT_BATCH = 1000;

const SEGMENT_SQL = {
  clients: 'u.is_client',
  applicants: 'not u.is_client and exists (select 1 from application a where a.user_id = u.id)',
  all: 'true',
} as const;

/**
 * One batch: pick the next recipients by keyset on telegram_user.id and insert their
 * notifications (idempotent by dedupe key) in one statement; their send jobs and the cursor
 * follow in the same transaction, so a worker dying mid-fan-out resumes where the last batch
 * committed.
 */
function batchSql(segment: keyof typeof SEGMENT_SQL) {
  return `
with recipients as (
  select u.id, u.telegram_id from telegram_user u
  where u.tenant_id = ? and u.unreachable_at is null and u.id > coalesce(?::uuid, '00000000-0000-0000-0000-000000000000')
    and ${SEGMENT_SQL[segment]}
  order by u.id limit ${FAN_OUT_BATCH}
), inserted as (
  insert into notification (id, tenant_id, user_id, chat_id, kind, dedupe_key, text, broadcast_id, status, attempts,
    created_at, updated_at)
  select gen_random_uuid(), ?, r.id, r.telegram_id, 'broadcast', 'broadcast:' || ? || ':' || r.id, ?, ?, 'pending', 0,
    now(), now()
  from recipients r
  on conflict (tenant_id, dedupe_key) do nothing
  returning id
)
select (select count(*) from recipients) as scanned,
       (select coalesce(array_agg(id), '{}') from inserted) as inserted,
       (select id from recipients order by id desc limit 1) as last_id`;
}

/** notifications.broadcast: turns a broadcast into one notification (and send job) per recipient. */
export const fanOutBroadcastJob = defineJob('notifications.broadcast', {
  async handle({ tenantId, broadcastId }, deps, ctx) {
    const em = forkForTenant(deps.orm, tenantId);
    const broadcast = await em.findOne(Broadcast, { id: broadcastId });
    if (broadcast?.status !== 'fanning_out') return;
    let cursor = broadcast.cursor ?? null;
    let total = broadcast.total;
    for (;;) {
      const done = await em.transactional(async (tx) => {
        const [row] = await tx
          .getConnection()
          .execute<{ scanned: string; inserted: string[]; last_id: string | null }[]>(
            batchSql(broadcast.segment),
            [tenantId, cursor, tenantId, broadcastId, broadcast.text, broadcastId],
            'all',
            tx.getTransactionContext(),
          );
        const scanned = Number(row!.scanned);
        const inserted = row!.inserted;
        await enqueueOnce(
          tx,
          'notifications.send',
          inserted.map((notificationId) => ({ tenantId, notificationId, bulk: true })),
        );
        total += inserted.length;
        cursor = row!.last_id ?? cursor;
        const finished = scanned < FAN_OUT_BATCH;
        await tx.nativeUpdate(
          Broadcast,
          { id: broadcastId },
          finished ? { cursor, total, status: 'sending', fannedOutAt: new Date() } : { cursor, total },
        );
        return finished;
      });
      if (done) break;
    }
    ctx.log.info({ event: 'broadcast_fanned_out', broadcastId, total }, 'broadcast fanned out');
  },
});
