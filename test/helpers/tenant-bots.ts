import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../../src/config/env.ts';
import { TelegramUser, Tenant } from '../../src/db/entities/index.ts';
import { forkForTenant } from '../../src/db/orm.ts';
import type { FakeTelegramBotApi } from '../../src/dev/fake-telegram-bot-api.ts';
import type { FakeTelegramFleet } from '../../src/dev/fake-telegram-fleet.ts';
import { botIdOf, createTenant } from '../../src/tenants/tenant-admin.ts';
import { sealContext, secretBoxOf } from '../../src/tenants/tenant-directory.ts';

let nextBotId = 3000000001;
/** A token shaped like @BotFather's, unique within the test run. */
export function newBotToken(): string {
  return `${nextBotId++}:AAFakeLateTenantToken${Math.random().toString(36).slice(2, 12)}`;
}

/**
 * A coach created while the processes run, as `npm run cli -- tenant:create` would: its bot gets a
 * fake on `fleet` (unless `fleet` is undefined: then Telegram knows no such bot and answers 401).
 */
export async function addTenantWithBot(
  orm: MikroORM,
  config: Config,
  fleet: FakeTelegramFleet | undefined,
  slug: string,
): Promise<{ id: string; slug: string; botToken: string; telegram: FakeTelegramBotApi | undefined }> {
  const botToken = newBotToken();
  const telegram = await fleet?.addBot(botToken, { perChatPerSecond: 0 });
  const created = await createTenant(orm, secretBoxOf(config), { slug, name: `Coach ${slug}`, botToken });
  return { id: created.id, slug, botToken, telegram };
}

/** What a token rotation does to the row: the new token sealed for this tenant. */
export async function storeBotToken(orm: MikroORM, config: Config, tenantId: string, botToken: string) {
  await orm.em.fork().nativeUpdate(
    Tenant,
    { id: tenantId },
    {
      botId: botIdOf(botToken),
      botTokenSealed: secretBoxOf(config)!.seal(botToken, sealContext(tenantId, 'bot_token')),
      updatedAt: new Date(),
    },
  );
}

/** The tenant gone: its clients (all a bot-only test creates), then its row. */
export async function deleteTenantRow(orm: MikroORM, tenantId: string): Promise<void> {
  await forkForTenant(orm, tenantId).nativeDelete(TelegramUser, { tenantId });
  await orm.em.fork().nativeDelete(Tenant, { id: tenantId });
}

let nextUpdateId = 500_000;
/** A private-chat `/start` from this user, as Telegram sends it. */
export function startUpdate(userId: number, firstName: string, languageCode = 'en') {
  const updateId = nextUpdateId++;
  return {
    update_id: updateId,
    message: {
      message_id: updateId,
      date: Math.floor(Date.now() / 1000),
      chat: { id: userId, type: 'private', first_name: firstName },
      from: { id: userId, is_bot: false, first_name: firstName, language_code: languageCode },
      text: '/start',
      entities: [{ type: 'bot_command', offset: 0, length: 6 }],
    },
  };
}
