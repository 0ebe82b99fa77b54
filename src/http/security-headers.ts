import type { Middleware } from 'koa';
import helmet from 'koa-helmet';
import { BULL_BOARD_PATH } from './bull-board.ts';
import { type WebPage, webPageOf } from './web-page-paths.ts';

/**
 * The JSON API is never a page: it may load nothing and be framed by nobody. Bull Board is a page
 * from this origin (its bundle sets inline styles). The Mini App and panel pages are framed by
 * Telegram's web clients, so they get a policy of their own (pagePolicy below).
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

/**
 * Telegram's web clients show Mini Apps in an iframe; nobody else may frame the pages. Desktop and
 * mobile clients use a webview, which frame-ancestors does not concern.
 */
export const TELEGRAM_FRAME_ANCESTORS = [
  'https://web.telegram.org',
  'https://webk.telegram.org',
  'https://webz.telegram.org',
];

/**
 * The pages run only their own bundled scripts (Vite emits no inline script) and talk only to
 * this origin (the API and the panel's WebSocket). The panel also loads Telegram's Login Widget,
 * which is a script from telegram.org showing an iframe from oauth.telegram.org; avatars come
 * from Telegram's CDN.
 */
function pagePolicy(page: WebPage) {
  const loginWidget = page === 'panel';
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", ...(loginWidget ? ['https://telegram.org'] : [])],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'https://t.me', 'https://*.telegram.org'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        frameSrc: loginWidget ? ['https://oauth.telegram.org'] : ["'none'"],
        objectSrc: ["'none'"],
        frameAncestors: TELEGRAM_FRAME_ANCESTORS,
        baseUri: ["'none'"],
        formAction: ["'self'"],
      },
    },
    // X-Frame-Options cannot name Telegram's origins; frame-ancestors above is what browsers follow.
    frameguard: false,
    referrerPolicy: { policy: 'same-origin' },
    // The Login Widget's popup must be able to message the page that opened it.
    crossOriginOpenerPolicy: loginWidget ? { policy: 'same-origin-allow-popups' } : { policy: 'same-origin' },
  });
}

const pageHeaders: Record<WebPage, Middleware> = { app: pagePolicy('app'), panel: pagePolicy('panel') };

/** Security headers on every response, errors and 404s included. */
export function securityHeaders(): Middleware {
  return (ctx, next) => {
    const page = webPageOf(ctx.path);
    if (page) return pageHeaders[page.page](ctx, next);
    const isBullBoard = ctx.path === BULL_BOARD_PATH || ctx.path.startsWith(`${BULL_BOARD_PATH}/`);
    // API answers are per caller, and the panel's are authenticated by a cookie alone, which does
    // not keep shared caches off the way an Authorization header does. Assets set their own.
    if (!isBullBoard) ctx.set('Cache-Control', 'no-store');
    return (isBullBoard ? bullBoardHeaders : apiHeaders)(ctx, next);
  };
}
