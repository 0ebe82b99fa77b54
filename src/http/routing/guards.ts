import { parseSignatureHeader, webhookSignatureMatches } from '../../billing/webhook-signature.ts';
import { AppError, NotFoundError, UnauthorizedError } from '../../domain/errors.ts';
import { bearerTokenMatches } from '../../observability/metrics-endpoint.ts';
import { botApiAuth } from '../bot-api-auth.ts';
import { panelAuth, panelLoginRateLimit } from '../panel-session-auth.ts';
import type { AppMiddleware as Middleware } from '../request-state.ts';
import { requirePermission } from '../require-permission.ts';
import { telegramWebhookGuard } from '../telegram-webhook-guard.ts';
import { tmaAuth } from '../tma-auth.ts';
import type { Access } from './access.ts';
import type { RouteDeps } from './route-deps.ts';

/** The one place that turns a route's declared access into the middleware that enforces it. */
export function createGuards(deps: RouteDeps): (access: Access) => Middleware[] {
  const { config } = deps;
  const miniApp = tmaAuth(config);
  const panelUser = panelAuth(config);
  // Built once, like the bot API's: the per-IP login limiter is shared by every login request.
  const panelLogin = panelLoginRateLimit(deps);
  // Built once: it holds the per-IP rate limiter shared by every bot API route.
  const botApi = botApiAuth(deps);
  const webhook = telegramWebhookGuard(deps);
  const metrics = bearerGuard(config.observability.metricsToken);
  const billingWebhook = billingSignatureGuard(config.billing.webhookSecret, deps);

  return (access) => {
    switch (access.kind) {
      case 'public':
      case 'panelSocket':
        return [];
      case 'miniApp':
        return [miniApp];
      case 'panel':
        return [panelUser, requirePermission(access.permission)];
      case 'panelLogin':
        return [panelLogin];
      case 'botApi':
        return [botApi];
      case 'webhook':
        return [webhook];
      case 'billingWebhook':
        return [billingWebhook];
      case 'metrics':
        return metrics ? [metrics] : [];
      case 'opsBasic':
        throw new Error('opsBasic routes are served by Bull Board, which checks its own credentials');
    }
  };
}

/**
 * The external billing service signs each webhook's raw body (src/billing/webhook-signature.ts).
 * koa-body keeps the raw text (`includeUnparsed`, app.ts) because re-serialising the parsed JSON
 * would not give back the bytes that were signed. Without BILLING_WEBHOOK_SECRET the endpoint is
 * off and answers 404 like a path that does not exist (as the Telegram webhook does with long
 * polling): an unconfigured install does not advertise an endpoint nobody can use.
 */
function billingSignatureGuard(secret: string | undefined, deps: Pick<RouteDeps, 'logger'>): Middleware {
  return async (ctx, next) => {
    if (!secret) throw new NotFoundError('not_found', 'No such endpoint.');
    const rawBody = (ctx.request as { rawBody?: unknown }).rawBody;
    // Only JSON bodies are read (and kept raw); anything else cannot be the signed body.
    if (typeof rawBody !== 'string') {
      throw new AppError(415, 'unsupported_media_type', 'Send the body as application/json.');
    }
    const header = ctx.get('x-billing-signature');
    const signature = parseSignatureHeader(header);
    if (!signature || !webhookSignatureMatches(rawBody, signature, secret)) {
      (ctx.state.log ?? deps.logger).warn(
        { event: 'billing_webhook_signature_mismatch', ip: ctx.ip, present: header !== '' },
        'billing webhook signature mismatch',
      );
      throw new UnauthorizedError('invalid_signature', 'The X-Billing-Signature header is missing or wrong.');
    }
    await next();
  };
}

/** METRICS_TOKEN: scrapers send `Authorization: Bearer <token>`; unset means open (a private network). */
function bearerGuard(token: string | undefined): Middleware | undefined {
  if (!token) return undefined;
  return async (ctx, next) => {
    if (!bearerTokenMatches(ctx.get('authorization'), token)) {
      ctx.set('WWW-Authenticate', 'Bearer');
      throw new UnauthorizedError('unauthorized', 'Metrics need the bearer token.');
    }
    await next();
  };
}
