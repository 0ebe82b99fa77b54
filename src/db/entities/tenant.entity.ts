import { defineEntity, p } from '@mikro-orm/postgresql';

/** A coach's business. Every other table carries tenant_id; one default tenant exists from the first migration. */
export const TenantSchema = defineEntity({
  name: 'Tenant',
  tableName: 'tenant',
  properties: {
    id: p.uuid().primary(),
    name: p.string().length(200),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export class Tenant extends TenantSchema.class {}
TenantSchema.setClass(Tenant);
