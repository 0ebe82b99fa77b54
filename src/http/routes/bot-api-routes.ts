import Router from '@koa/router';
import type { Redis } from 'ioredis';
import type { Context } from 'koa';
import { z } from 'zod';
import type { BillingAdapter } from '../../billing/billing-adapter.ts';
import type { Config } from '../../config/env.ts';
import type { Logger } from '../../config/logger.ts';
import { TelegramUser } from '../../db/entities/index.ts';
import type { EntityManager } from '../../db/orm.ts';
import { lookupSubscriptions, subscriptionView } from '../../domain/clients.ts';
import { BadRequestError, NotFoundError } from '../../domain/errors.ts';
import { findLatestPlan, planView } from '../../domain/plans.ts';
import { registerBotUser } from '../../domain/users.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { botApiAuth } from '../bot-api-auth.ts';
import { parseBody } from '../validation.ts';

/** telegram_user.telegram_id is a signed bigint; a larger id would be a database error, not a 400. */
const MAX_BIGINT = 9_223_372_036_854_775_807n;

/** Decimal digits naming a storable Telegram id, normalised ("007" and "7" are the same user). */
const telegramIdString = z
  .string()
  .regex(/^\d{1,20}$/, 'must be a positive integer of at most 20 digits')
  // zod runs refinements even after a failed regex, so BigInt must not see non-digits.
  .refine((value) => /^\d+$/.test(value) && BigInt(value) > 0n && BigInt(value) <= MAX_BIGINT, {
    message: 'must be a positive 64-bit Telegram id',
  })
  .transform((value) => BigInt(value).toString());

/**
 * Ids past 2^53 lose digits in a JSON number before we ever see them, so numbers are accepted
 * only in the safe range; larger ids must come as strings.
 */
const telegramIdSchema = z.union([
  z
    .number()
    .int()
    .positive()
    .max(Number.MAX_SAFE_INTEGER, 'send ids above 2^53 as a decimal string')
    .transform(String),
  telegramIdString,
]);

const optionalText = (max: number) => z.string().min(1).max(max).nullish();

const botUserBodySchema = z
  .object({
    telegramId: telegramIdSchema,
    firstName: z.string().min(1).max(256),
    lastName: optionalText(256),
    // Telegram allows 5–32 characters; collectible (Fragment) usernames may be 4.
    username: z
      .string()
      .regex(/^[A-Za-z0-9_]{4,32}$/, 'must be a Telegram username: 4–32 letters, digits or underscores')
      .nullish(),
    languageCode: optionalText(16),
  })
  .strict();

async function userView(ctx: Context, billing: BillingAdapter, user: TelegramUser) {
  const em: EntityManager = ctx.state.em;
  const [latest, subscriptions] = await Promise.all([
    findLatestPlan(em, user.id),
    lookupSubscriptions({ billing, log: ctx.state.log, tenantId: ctx.state.tenantId }, [user.id]),
  ]);
  return {
    telegramId: user.telegramId,
    firstName: user.firstName,
    lastName: user.lastName ?? null,
    username: user.username ?? null,
    languageCode: user.languageCode ?? null,
    isClient: user.isClient ?? false,
    role: user.role ?? null,
    reachable: !user.unreachableAt,
    subscription: subscriptionView(subscriptions, user.id),
    latestPlan: latest ? planView(latest, false) : null,
  };
}

export interface BotApiRouteDeps {
  config: Config;
  metrics: Metrics;
  redis: Redis;
  logger: Logger;
  billing: BillingAdapter;
}

/** Server-to-server API for the bot process (see docs/bot-api.md). */
export function botApiRoutes(deps: BotApiRouteDeps): Router {
  const router = new Router({ prefix: '/api/bot' });
  router.use(botApiAuth(deps));

  // Same domain service as the bot's own /start handler, so both paths behave identically.
  router.post('/users', async (ctx: Context) => {
    const body = parseBody(ctx, botUserBodySchema);
    const em: EntityManager = ctx.state.em;
    const { user, created } = await registerBotUser(em, ctx.state.tenantId, {
      telegramId: body.telegramId,
      firstName: body.firstName,
      lastName: body.lastName ?? null,
      username: body.username ?? null,
      languageCode: body.languageCode ?? null,
    });
    ctx.status = created ? 201 : 200;
    ctx.body = await userView(ctx, deps.billing, user);
  });

  router.get('/users/:telegramId', async (ctx: Context) => {
    const parsed = telegramIdString.safeParse(ctx.params.telegramId);
    if (!parsed.success) {
      throw new BadRequestError('invalid_telegram_id', 'telegramId must be a positive 64-bit integer.');
    }
    const em: EntityManager = ctx.state.em;
    const user = await em.findOne(TelegramUser, { tenantId: ctx.state.tenantId, telegramId: parsed.data });
    if (!user) throw new NotFoundError('user_not_found', 'No user with this Telegram id.');
    ctx.body = await userView(ctx, deps.billing, user);
  });

  return router;
}
