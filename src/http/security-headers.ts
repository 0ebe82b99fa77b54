import type { Middleware } from 'koa';
import helmet from 'koa-helmet';
import { BULL_BOARD_PATH } from './bull-board.ts';

/**
 * The JSON API is never a page: it may load nothing and be framed by nobody. Bull Board is a page
 * from this origin (its bundle sets inline styles). The Mini App and panel pages will need
 * Telegram's web clients as frame ancestors: they get a policy of their own here.
 */
const apiHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
    },
  },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
});

const bullBoardHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      frameAncestors: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
    },
  },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'same-origin' },
});

/** Security headers on every response, errors and 404s included. */
export function securityHeaders(): Middleware {
  return (ctx, next) => {
    const isBullBoard = ctx.path === BULL_BOARD_PATH || ctx.path.startsWith(`${BULL_BOARD_PATH}/`);
    return (isBullBoard ? bullBoardHeaders : apiHeaders)(ctx, next);
  };
}
