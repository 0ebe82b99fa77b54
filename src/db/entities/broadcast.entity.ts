import { defineEntity, p } from '@mikro-orm/postgresql';

export const BROADCAST_SEGMENTS = ['clients', 'applicants', 'all'] as const;
export type BroadcastSegment = (typeof BROADCAST_SEGMENTS)[number];

/** fanning_out → sending → completed; progress counts come from the notification rows. */
export const BROADCAST_STATUSES = ['fanning_out', 'sending', 'completed'] as const;

export const BroadcastSchema = defineEntity({
  name: 'Broadcast',
  tableName: 'broadcast',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    createdBy: p.uuid(),
    text: p.text(),
    segment: p.enum(BROADCAST_SEGMENTS),
    status: p.enum(BROADCAST_STATUSES).default('fanning_out'),
    /** Recipients enqueued so far; final once status leaves fanning_out. */
    total: p.integer().default(0),
    /** Keyset position of the fan-out (last telegram_user.id handled), so a restarted job resumes. */
    cursor: p.uuid().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    fannedOutAt: p.datetime().nullable(),
  },
});
export class Broadcast extends BroadcastSchema.class {}
BroadcastSchema.setClass(Broadcast);
