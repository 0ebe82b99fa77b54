import { z } from 'zod';
import { TelegramUser } from '../../db/entities/index.ts';
import type { EntityManager } from '../../db/orm.ts';
import { NotFoundError } from '../../domain/errors.ts';
import { freeText } from '../../domain/survey-answers.ts';
import { registerBotUser } from '../../domain/users.ts';
import { BOT_API } from '../routing/access.ts';
import { defineRoute } from '../routing/define-route.ts';
import { telegramIdString, userProfileShape } from '../schemas.ts';
import { userProfile } from '../user-profile.ts';

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

const optionalText = (max: number) => freeText(max).pipe(z.string().min(1)).nullish();

const botUserBodySchema = z
  .object({
    telegramId: telegramIdSchema,
    firstName: freeText(256).pipe(z.string().min(1)),
    lastName: optionalText(256),
    // Telegram allows 5–32 characters; collectible (Fragment) usernames may be 4.
    username: z
      .string()
      .regex(/^[A-Za-z0-9_]{4,32}$/, 'must be a Telegram username: 4–32 letters, digits or underscores')
      .nullish(),
    languageCode: optionalText(16),
  })
  .strict()
  .meta({ examples: [{ telegramId: '279058397', firstName: 'Anna', username: 'anna', languageCode: 'en' }] });

const botUserSchema = z.object({ ...userProfileShape, reachable: z.boolean() });

async function userView(request: { em: EntityManager }, user: TelegramUser) {
  return { ...(await userProfile(request, user)), reachable: !user.unreachableAt };
}

const tags = ['Bot API'];

/** Server-to-server API for the bot process (docs/bot-api.md). */
export const botApiRoutes = [
  defineRoute({
    name: 'upsertBotUser',
    method: 'POST',
    path: '/api/bot/users',
    summary: "Create or update a user on /start (same service as the bot's own /start)",
    tags,
    access: BOT_API,
    body: botUserBodySchema,
    responses: {
      200: { description: 'Updated', schema: botUserSchema },
      201: { description: 'Created', schema: botUserSchema },
    },
    async handler(request, _deps) {
      const { body, em, tenantId, log, ip } = request;
      const { user, created } = await registerBotUser(em, tenantId, {
        telegramId: body.telegramId,
        firstName: body.firstName,
        lastName: body.lastName ?? null,
        username: body.username ?? null,
        languageCode: body.languageCode ?? null,
      });
      // A write by a machine caller: the trail says who (source IP) touched which user, never the names.
      log.info(
        { event: 'bot_api_user_upserted', ip, telegramId: user.telegramId, userId: user.id, created },
        'bot API upserted a user',
      );
      return { status: created ? 201 : 200, body: await userView(request, user) };
    },
  }),

  defineRoute({
    name: 'getBotUser',
    method: 'GET',
    path: '/api/bot/users/:telegramId',
    summary: 'A user by Telegram id: client status, latest plan, subscription, reachability',
    tags,
    access: BOT_API,
    params: z.object({ telegramId: telegramIdString }),
    responses: {
      200: { description: 'The user', schema: botUserSchema },
      404: { description: 'No user with this Telegram id' },
    },
    async handler(request, _deps) {
      const user = await request.em.findOne(TelegramUser, {
        tenantId: request.tenantId,
        telegramId: request.params.telegramId,
      });
      if (!user) throw new NotFoundError('user_not_found', 'No user with this Telegram id.');
      return { status: 200, body: await userView(request, user) };
    },
  }),
];
