import { randomUUID } from 'node:crypto';
import type { BroadcastSegment } from '../db/entities/broadcast.entity.ts';
import { Broadcast, type Notification } from '../db/entities/index.ts';
import type { EntityManager } from '../db/orm.ts';
import { enqueue } from '../queue/outbox-writer.ts';
import { writeAudit } from './audit-log.ts';

/** Stores the broadcast, its audit record and the fan-out job in one transaction. */
export async function createBroadcast(
  em: EntityManager,
  input: { tenantId: string; actorId: string; text: string; segment: BroadcastSegment },
): Promise<Broadcast> {
  return em.transactional(async (tx) => {
    const now = new Date();
    const broadcast = tx.create(Broadcast, {
      id: randomUUID(),
      tenantId: input.tenantId,
      createdBy: input.actorId,
      text: input.text,
      segment: input.segment,
      status: 'fanning_out',
      total: 0,
      createdAt: now,
    });
    writeAudit(tx, {
      tenantId: input.tenantId,
      actorId: input.actorId,
      action: 'broadcast.create',
      targetType: 'broadcast',
      targetId: broadcast.id,
      details: { segment: input.segment, length: input.text.length },
      at: now,
    });
    enqueue(tx, 'notifications.broadcast', { tenantId: input.tenantId, broadcastId: broadcast.id }, now);
    await tx.flush();
    return broadcast;
  });
}

export interface BroadcastProgress {
  id: string;
  status: 'fanning_out' | 'sending' | 'completed';
  segment: BroadcastSegment;
  total: number;
  sent: number;
  failed: number;
  pending: number;
  createdAt: string;
}

/** Counts come from the notification rows (indexed by broadcast and status), so they cannot drift. */
export async function broadcastProgress(em: EntityManager, id: string): Promise<BroadcastProgress | null> {
  const broadcast = await em.findOne(Broadcast, { id });
  if (!broadcast) return null;
  const rows: { status: Notification['status']; count: string }[] = await em
    .getConnection()
    .execute('select status, count(*) as count from notification where broadcast_id = ? group by status', [
      id,
    ]);
  const count = (statuses: string[]) =>
    rows.filter((row) => statuses.includes(row.status)).reduce((sum, row) => sum + Number(row.count), 0);
  const pending = count(['pending', 'sending']);
  const status = broadcast.status === 'fanning_out' ? 'fanning_out' : pending > 0 ? 'sending' : 'completed';
  return {
    id: broadcast.id,
    status,
    segment: broadcast.segment,
    total: broadcast.total,
    sent: count(['sent']),
    // `uncertain` counts as failed: delivery could not be confirmed.
    failed: count(['failed', 'uncertain']),
    pending,
    createdAt: broadcast.createdAt.toISOString(),
  };
}
