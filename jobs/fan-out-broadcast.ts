import { z } from 'zod';
import { Broadcast } from '../src/db/entities/index.ts';
import { forkForTenant } from '../src/db/orm.ts';
import { defineJob } from './job-definition.ts';

const payloadSchema = z.object({ tenantId: z.uuid(), broadcastId: z.uuid() });

/** Recipients per transaction: bounds memory and lock time whatever the audience size. */
export const FAN_OUT_BATCH = 1000;

const SEGMENT_SQL = {
  clients: 'u.is_client',
  applicants: 'not u.is_client and exists (select 1 from application a where a.user_id = u.id)',
  all: 'true',
} as const;

/**
 * One batch, entirely in SQL: pick the next recipients by keyset on telegram_user.id, insert
 * their notifications (idempotent by dedupe key) and outbox rows, and move the cursor — in one
 * transaction, so a worker dying mid-fan-out resumes where the last batch committed.
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
), queued as (
  insert into outbox (tenant_id, queue, job_name, job_id, payload, attempts, created_at)
  select ?, 'notifications', 'notifications.send', 'notification-' || i.id,
    jsonb_build_object('tenantId', ?::text, 'notificationId', i.id), 0, now()
  from inserted i
  on conflict (job_id) do nothing
  returning id
)
select (select count(*) from recipients) as scanned,
       (select count(*) from inserted) as inserted,
       (select id from recipients order by id desc limit 1) as last_id`;
}

export const fanOutBroadcastJob = defineJob({
  name: 'notifications.broadcast',
  payload: payloadSchema,

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
          .execute<{ scanned: string; inserted: string; last_id: string | null }[]>(
            batchSql(broadcast.segment),
            [tenantId, cursor, tenantId, broadcastId, broadcast.text, broadcastId, tenantId, tenantId],
            'all',
            tx.getTransactionContext(),
          );
        const scanned = Number(row!.scanned);
        total += Number(row!.inserted);
        cursor = row!.last_id ?? cursor;
        const finished = scanned < FAN_OUT_BATCH;
        await tx.nativeUpdate(
          Broadcast,
          { id: broadcastId },
          finished ? { cursor, total, status: 'sending', fannedOutAt: new Date() } : { cursor, total },
        );
        return finished;
      });
      deps.onOutboxWritten?.();
      if (done) break;
    }
    ctx.log.info({ event: 'broadcast_fanned_out', broadcastId, total }, 'broadcast fanned out');
  },
});
