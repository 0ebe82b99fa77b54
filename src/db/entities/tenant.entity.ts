import { defineEntity, p } from '@mikro-orm/postgresql';

/**
 * A coach's business, with its own bot. Every other table carries tenant_id; the default tenant
 * (slug `default`) exists from the first migration. Secrets are sealed (src/tenants/secret-box.ts):
 * read them through the tenant directory, which opens them, never from this row directly.
 */
export const TenantSchema = defineEntity({
  name: 'Tenant',
  tableName: 'tenant',
  properties: {
    id: p.uuid().primary(),
    slug: p.string().length(40).unique(),
    name: p.string().length(200),
    /** The numeric prefix of the bot token: the bot's Telegram id. */
    botId: p.bigint('string').nullable().unique(),
    botUsername: p.string().length(64).nullable(),
    botTokenSealed: p.text().nullable(),
    webhookSecretSealed: p.text().nullable(),
    /** Hex SHA-256 of this tenant's own bot API secret (shown once at creation). */
    botApiSecretDigest: p.string().length(64).nullable(),
    aiRequestsPerMinute: p.integer().nullable(),
    aiPlansPerDay: p.integer().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});
export class Tenant extends TenantSchema.class {}
TenantSchema.setClass(Tenant);
