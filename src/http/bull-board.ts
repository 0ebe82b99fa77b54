import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import type { Queue } from 'bullmq';
import type { Context, Middleware, Next } from 'koa';
import { sameSecret } from '../security/constant-time.ts';

export const BULL_BOARD_PATH = '/admin/queues';

/**
 * Bull Board for ops, behind HTTP basic auth (BULL_BOARD_USER / BULL_BOARD_PASSWORD). Without
 * credentials configured it is not mounted at all: a queue UI can retry and delete jobs.
 */
export function bullBoardMiddleware(
  queues: Queue[],
  credentials: { user: string; password: string },
): Middleware {
  const serverAdapter = new KoaAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({ queues: queues.map((queue) => new BullMQAdapter(queue)), serverAdapter });
  const board = serverAdapter.registerPlugin();
  return async (ctx: Context, next: Next) => {
    if (ctx.path !== BULL_BOARD_PATH && !ctx.path.startsWith(`${BULL_BOARD_PATH}/`)) return next();
    const match = /^Basic (.+)$/.exec(ctx.get('authorization'));
    const [user, ...rest] = match ? Buffer.from(match[1]!, 'base64').toString('utf8').split(':') : [];
    const ok =
      user !== undefined &&
      sameSecret(user, credentials.user) &&
      sameSecret(rest.join(':'), credentials.password);
    if (!ok) {
      ctx.set('WWW-Authenticate', 'Basic realm="queues", charset="UTF-8"');
      ctx.status = 401;
      ctx.body = { error: { code: 'unauthorized', message: 'Bull Board needs the ops credentials.' } };
      return;
    }
    return board(ctx, next);
  };
}
