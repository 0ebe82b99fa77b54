import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Config } from '../../config/env.ts';
import { BROADCAST_SEGMENTS } from '../../db/entities/broadcast.entity.ts';
import { broadcastProgress, createBroadcast } from '../../domain/broadcasts.ts';
import { BadRequestError, NotFoundError } from '../../domain/errors.ts';
import { freeText } from '../../domain/survey-answers.ts';
import { requirePermission } from '../require-permission.ts';
import { tmaAuth } from '../tma-auth.ts';
import { parseBody } from '../validation.ts';

/** Texts over Telegram's 4096 characters are sent as several messages; this caps the total. */
const MAX_BROADCAST_LENGTH = 16_384;

const broadcastBodySchema = z
  .object({
    text: freeText(MAX_BROADCAST_LENGTH).pipe(z.string().min(1)),
    segment: z.enum(BROADCAST_SEGMENTS),
  })
  .strict();

export function panelBroadcastRoutes(deps: { config: Config; onOutboxWritten(): void }): Router {
  const router = new Router({ prefix: '/api/panel/broadcasts' });
  router.use(tmaAuth(deps.config), requirePermission('manage_clients', deps.config.telegram.admins));

  router.post('/', async (ctx: Context) => {
    const body = parseBody(ctx, broadcastBodySchema);
    const broadcast = await createBroadcast(ctx.state.em, {
      tenantId: ctx.state.tenantId,
      actorId: ctx.state.user.id,
      text: body.text,
      segment: body.segment,
    });
    deps.onOutboxWritten();
    ctx.status = 202;
    ctx.set('Location', `/api/panel/broadcasts/${broadcast.id}`);
    ctx.body = { id: broadcast.id };
  });

  router.get('/:id', async (ctx: Context) => {
    const id = ctx.params.id!;
    if (!z.uuid().safeParse(id).success)
      throw new BadRequestError('invalid_broadcast_id', 'Broadcast id must be a UUID.');
    const progress = await broadcastProgress(ctx.state.em, id);
    if (!progress) throw new NotFoundError('broadcast_not_found', 'No such broadcast.');
    ctx.body = progress;
  });

  return router;
}
