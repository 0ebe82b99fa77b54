import { defineEntity, p } from '@mikro-orm/postgresql';

/** Who did what to whom, written in the same transaction as the action itself. */
export const AuditLogSchema = defineEntity({
  name: 'AuditLog',
  tableName: 'audit_log',
  indexes: [{ properties: ['tenantId', 'createdAt', 'id'] }],
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    actorId: p.uuid(),
    action: p.string().length(64),
    targetType: p.string().length(32),
    targetId: p.string().length(64).nullable(),
    details: p.json<Record<string, unknown>>().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export class AuditLog extends AuditLogSchema.class {}
AuditLogSchema.setClass(AuditLog);
