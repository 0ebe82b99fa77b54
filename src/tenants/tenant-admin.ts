import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { Tenant } from '../db/entities/index.ts';
import type { SecretBox } from './secret-box.ts';
import { sealContext } from './tenant-directory.ts';
import { RESERVED_SLUGS, TENANT_SLUG_PATTERN } from './tenant-urls.ts';

/** Which input an operator has to fix. */
export type TenantInputCode =
  | 'invalid_slug'
  | 'slug_taken'
  | 'invalid_bot_token'
  | 'bot_taken'
  | 'no_secret_key'
  | 'not_found'
  | 'default_tenant';

/** What an operator asked for cannot be done as asked; `code` says which input to fix. */
export class TenantInputError extends Error {
  override name = 'TenantInputError';
  readonly code: TenantInputCode;
  constructor(code: TenantInputCode, message: string) {
    super(message);
    this.code = code;
  }
}

export const BOT_TOKEN_PATTERN = /^(\d+):[A-Za-z0-9_-]{20,}$/;

export interface NewTenant {
  slug: string;
  name: string;
  botToken: string;
  botUsername?: string;
  aiRequestsPerMinute?: number;
  aiPlansPerDay?: number;
}

export interface CreatedTenant {
  id: string;
  slug: string;
  /** Shown once: the tenant's own X-Bot-Api-Secret. Only its digest is stored. */
  botApiSecret: string;
}

const newSecret = () => randomBytes(32).toString('base64url');
const hexDigest = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

export function checkSlug(slug: string): void {
  if (!TENANT_SLUG_PATTERN.test(slug)) {
    throw new TenantInputError(
      'invalid_slug',
      `Invalid slug "${slug}": use 1-40 lower-case letters, digits and inner hyphens (e.g. "anna-fit").`,
    );
  }
  if (RESERVED_SLUGS.has(slug)) throw new TenantInputError('invalid_slug', `The slug "${slug}" is reserved.`);
}

export function botIdOf(botToken: string): string {
  const match = BOT_TOKEN_PATTERN.exec(botToken);
  if (!match) {
    throw new TenantInputError(
      'invalid_bot_token',
      'The bot token must look like 123456:ABC-DEF... (from @BotFather).',
    );
  }
  return match[1]!;
}

/**
 * A new coach: its row with the bot token and a fresh webhook secret sealed, and a bot API secret
 * of its own whose digest alone is kept. One statement, so a failure leaves nothing behind.
 */
/**
 * The default tenant's bot usually lives in TELEGRAM_BOT_TOKEN, not in its row, so the bot_id
 * unique constraint cannot see it: a tenant given that bot would share its updates and its
 * initData with the default tenant.
 */
export function refuseDefaultTenantBot(defaultBotToken: string | undefined, botToken: string): void {
  if (
    defaultBotToken &&
    BOT_TOKEN_PATTERN.test(defaultBotToken) &&
    botIdOf(defaultBotToken) === botIdOf(botToken)
  ) {
    throw new TenantInputError('bot_taken', "This bot is the default tenant's (TELEGRAM_BOT_TOKEN).");
  }
}

export async function createTenant(
  orm: MikroORM,
  box: SecretBox | undefined,
  input: NewTenant,
): Promise<CreatedTenant> {
  checkSlug(input.slug);
  const botId = botIdOf(input.botToken);
  if (!box) {
    throw new TenantInputError(
      'no_secret_key',
      'Set TENANT_SECRET_KEY first (npm run -s cli -- secret:generate --bytes 32).',
    );
  }
  const em = orm.em.fork({ clear: true });
  const taken = await em.findOne(
    Tenant,
    { $or: [{ slug: input.slug }, { botId }] },
    { fields: ['slug', 'botId'] },
  );
  if (taken?.slug === input.slug)
    throw new TenantInputError('slug_taken', `A tenant "${input.slug}" exists already.`);
  if (taken) throw new TenantInputError('bot_taken', `This bot already belongs to tenant "${taken.slug}".`);
  const id = randomUUID();
  const botApiSecret = newSecret();
  const now = new Date();
  try {
    await em.insert(Tenant, {
      id,
      slug: input.slug,
      name: input.name,
      botId,
      botUsername: input.botUsername ?? null,
      botTokenSealed: box.seal(input.botToken, sealContext(id, 'bot_token')),
      webhookSecretSealed: box.seal(newSecret(), sealContext(id, 'webhook_secret')),
      botApiSecretDigest: hexDigest(botApiSecret),
      aiRequestsPerMinute: input.aiRequestsPerMinute ?? null,
      aiPlansPerDay: input.aiPlansPerDay ?? null,
      createdAt: now,
      updatedAt: now,
    });
  } catch (error) {
    // Two creates racing past the check above: the unique constraints decide.
    const detail = String((error as { constraint?: string }).constraint ?? (error as Error).message);
    if (detail.includes('tenant_slug_unique'))
      throw new TenantInputError('slug_taken', `A tenant "${input.slug}" exists already.`);
    if (detail.includes('tenant_bot_id_unique'))
      throw new TenantInputError('bot_taken', 'This bot already belongs to another tenant.');
    throw error;
  }
  return { id, slug: input.slug, botApiSecret };
}

/** What `tenant:update` may change; absent fields stay, null budgets fall back to the defaults. */
export interface TenantChanges {
  name?: string;
  botToken?: string;
  /** With botToken: the new bot's username (from getMe); null when unknown. */
  botUsername?: string | null;
  aiRequestsPerMinute?: number | null;
  aiPlansPerDay?: number | null;
}

export async function findTenantBySlug(orm: MikroORM, slug: string): Promise<Tenant> {
  const tenant = await orm.em.fork({ clear: true }).findOne(Tenant, { slug });
  if (!tenant) throw new TenantInputError('not_found', `No tenant "${slug}" (see tenant:list).`);
  return tenant;
}

/**
 * Renames a tenant, changes its budgets or rotates its bot token. A rotated token is sealed like a
 * new one; it may belong to another bot (a coach moving to a new bot), so the bot id is checked
 * again against every other tenant. Returns the names of the fields that changed.
 */
export async function updateTenant(
  orm: MikroORM,
  box: SecretBox | undefined,
  slug: string,
  changes: TenantChanges,
): Promise<{ id: string; changed: string[] }> {
  const em = orm.em.fork({ clear: true });
  const tenant = await em.findOne(Tenant, { slug });
  if (!tenant) throw new TenantInputError('not_found', `No tenant "${slug}" (see tenant:list).`);
  const changed: string[] = [];
  if (changes.botToken !== undefined) {
    const botId = botIdOf(changes.botToken);
    if (!box) {
      throw new TenantInputError(
        'no_secret_key',
        'Set TENANT_SECRET_KEY first (npm run -s cli -- secret:generate --bytes 32).',
      );
    }
    const other = await em.findOne(Tenant, { botId, id: { $ne: tenant.id } }, { fields: ['slug'] });
    if (other) throw new TenantInputError('bot_taken', `This bot already belongs to tenant "${other.slug}".`);
    tenant.botId = botId;
    tenant.botTokenSealed = box.seal(changes.botToken, sealContext(tenant.id, 'bot_token'));
    tenant.botUsername = changes.botUsername ?? null;
    changed.push('bot token');
  }
  if (changes.name !== undefined && changes.name !== tenant.name) {
    tenant.name = changes.name;
    changed.push('name');
  }
  if (
    changes.aiRequestsPerMinute !== undefined &&
    changes.aiRequestsPerMinute !== tenant.aiRequestsPerMinute
  ) {
    tenant.aiRequestsPerMinute = changes.aiRequestsPerMinute;
    changed.push('AI requests per minute');
  }
  if (changes.aiPlansPerDay !== undefined && changes.aiPlansPerDay !== tenant.aiPlansPerDay) {
    tenant.aiPlansPerDay = changes.aiPlansPerDay;
    changed.push('plans per day');
  }
  if (changed.length === 0) return { id: tenant.id, changed };
  tenant.updatedAt = new Date();
  try {
    await em.flush();
  } catch (error) {
    const detail = String((error as { constraint?: string }).constraint ?? (error as Error).message);
    if (detail.includes('tenant_bot_id_unique'))
      throw new TenantInputError('bot_taken', 'This bot already belongs to another tenant.');
    throw error;
  }
  return { id: tenant.id, changed };
}
