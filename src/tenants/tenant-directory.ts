import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../config/env.ts';
import type { Logger } from '../config/logger.ts';
import { Tenant } from '../db/entities/index.ts';
import { DEFAULT_TENANT_ID } from '../db/orm.ts';
import { createSecretBox, type SecretBox } from './secret-box.ts';
import { tenantPageUrl, tenantWebhookUrl } from './tenant-urls.ts';

/** One coach as every process sees it: ids, URLs, the bot (secrets opened) and budgets. */
export interface TenantProfile {
  id: string;
  slug: string;
  name: string;
  isDefault: boolean;
  /** Undefined when none is configured or it cannot be opened (see `problem`). */
  botToken: string | undefined;
  botUsername: string | undefined;
  /** The secret_token Telegram sends with each webhook delivery to this tenant's URL. */
  webhookSecret: string | undefined;
  /** Hex SHA-256 of the tenant's own bot API secret, if it has one. */
  botApiSecretDigest: string | undefined;
  /** TELEGRAM_ADMINS are owners of the default tenant only. */
  configuredOwners: string[];
  miniAppUrl: string | undefined;
  panelUrl: string | undefined;
  webhookUrl: string | undefined;
  ai: { requestsPerMinute: number; plansPerDay: number };
  /** Why the bot is unusable (a sealed secret no configured key opens), for logs and tenant:list. */
  problem: string | undefined;
}

export interface TenantDirectory {
  byId(id: string): Promise<TenantProfile | undefined>;
  bySlug(slug: string): Promise<TenantProfile | undefined>;
  /** Every tenant, default first. */
  list(): Promise<TenantProfile[]>;
  /** Reads the table again now (after a tenant:create in this process, or in tests). */
  refresh(): Promise<void>;
}

export function secretBoxOf(config: Config): SecretBox | undefined {
  return config.tenants.secretKeys.length ? createSecretBox(config.tenants.secretKeys) : undefined;
}

/** What a sealed column is bound to: its tenant and its purpose (secret-box.ts). */
export const sealContext = (tenantId: string, field: 'bot_token' | 'webhook_secret') =>
  `${tenantId}:${field}`;

/** A miss for an unknown slug (a caller's header) reloads at most this often, so random slugs cannot hammer the table. */
const MISS_RELOAD_MS = 1_000;

/**
 * The tenant table, held in memory: tenants are few (one row per coach) and read on every
 * request. A snapshot older than TENANT_CACHE_MS is reloaded on the next read, and a slug or id
 * not in it triggers an early reload (at most once a second), so a tenant created by the CLI works
 * at once while a removed one stops within TENANT_CACHE_MS.
 */
export function createTenantDirectory(deps: {
  orm: MikroORM;
  config: Config;
  logger: Logger;
}): TenantDirectory {
  const { config } = deps;
  const log = deps.logger.child({ component: 'tenant_directory' });
  const box = secretBoxOf(config);
  let snapshot:
    | { byId: Map<string, TenantProfile>; bySlug: Map<string, TenantProfile>; at: number }
    | undefined;
  let loading: Promise<void> | undefined;
  const reported = new Set<string>();

  function open(row: Tenant, field: 'bot_token' | 'webhook_secret'): { value?: string; problem?: string } {
    const sealed = field === 'bot_token' ? row.botTokenSealed : row.webhookSecretSealed;
    if (!sealed) return {};
    if (!box) return { problem: 'TENANT_SECRET_KEY is not set, so the bot token cannot be opened' };
    try {
      return { value: box.open(sealed, sealContext(row.id, field)) };
    } catch (error) {
      return { problem: (error as Error).message };
    }
  }

  function profileOf(row: Tenant): TenantProfile {
    const isDefault = row.id === DEFAULT_TENANT_ID;
    const token = open(row, 'bot_token');
    const webhook = open(row, 'webhook_secret');
    const problem = token.problem ?? webhook.problem;
    if (problem && !reported.has(`${row.id}:${problem}`)) {
      reported.add(`${row.id}:${problem}`);
      log.error({ event: 'tenant_secret_unreadable', tenant: row.slug, problem }, 'tenant bot unusable');
    }
    const telegram = config.telegram;
    return {
      id: row.id,
      slug: row.slug,
      name: row.name,
      isDefault,
      botToken: token.value ?? (isDefault && !row.botTokenSealed ? telegram.botToken : undefined),
      botUsername: row.botUsername ?? (isDefault ? telegram.botUsername : undefined),
      webhookSecret: webhook.value ?? (isDefault ? telegram.webhookSecret : undefined),
      botApiSecretDigest: row.botApiSecretDigest ?? undefined,
      configuredOwners: isDefault ? telegram.admins : [],
      miniAppUrl: tenantPageUrl(telegram.miniAppUrl, row.slug, isDefault),
      panelUrl: tenantPageUrl(telegram.panelUrl, row.slug, isDefault),
      webhookUrl: tenantWebhookUrl(telegram.webhookUrl, row.slug, isDefault),
      ai: {
        requestsPerMinute: row.aiRequestsPerMinute ?? config.tenants.aiRequestsPerMinute,
        plansPerDay: row.aiPlansPerDay ?? config.tenants.aiPlansPerDay,
      },
      problem,
    };
  }

  async function load(): Promise<void> {
    loading ??= (async () => {
      try {
        const rows = await deps.orm.em
          .fork({ clear: true })
          .find(Tenant, {}, { orderBy: { createdAt: 'asc' } });
        const profiles = rows.map(profileOf);
        snapshot = {
          byId: new Map(profiles.map((profile) => [profile.id, profile])),
          bySlug: new Map(profiles.map((profile) => [profile.slug, profile])),
          at: Date.now(),
        };
      } finally {
        loading = undefined;
      }
    })();
    return loading;
  }

  /**
   * A stale snapshot is served while a fresh one loads in the background, so no request waits on
   * the tenant table once it has been read, and with PostgreSQL down requests keep resolving their
   * tenant (they fail on their own queries with a 503, health checks keep answering).
   */
  function refreshInBackground(): void {
    load().catch((error: unknown) =>
      log.warn(
        { event: 'tenant_directory_stale', err: (error as Error).message },
        'serving the last tenant list',
      ),
    );
  }

  async function current(missed?: (s: NonNullable<typeof snapshot>) => boolean) {
    if (!snapshot) await load();
    else if (missed?.(snapshot) && Date.now() - snapshot.at > MISS_RELOAD_MS) {
      // Someone asks for a tenant we have not seen: perhaps created a moment ago. Worth one read.
      await load().catch(() => undefined);
    } else if (Date.now() - snapshot.at > config.tenants.cacheMs && !loading) refreshInBackground();
    return snapshot!;
  }

  /** A read that starts now: one already in flight may predate the change the caller needs. */
  async function freshLoad(): Promise<void> {
    await loading?.catch(() => undefined);
    await load();
  }

  return {
    async byId(id) {
      const found = (await current()).byId.get(id);
      if (found) return found;
      // Ids come from our own rows and jobs, never from a caller: a miss is a tenant created a
      // moment ago (whose first job must not fail) or one removed, and worth a read every time.
      await freshLoad().catch(() => undefined);
      return snapshot?.byId.get(id);
    },
    async bySlug(slug) {
      return (await current((s) => !s.bySlug.has(slug))).bySlug.get(slug);
    },
    async list() {
      const all = [...(await current()).byId.values()];
      return all.sort((a, b) => Number(b.isDefault) - Number(a.isDefault));
    },
    refresh: freshLoad,
  };
}
