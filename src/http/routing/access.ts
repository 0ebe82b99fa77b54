import type { Permission } from '../../domain/permissions.ts';

/**
 * Who may call a route, declared with the route itself (never inferred from its path):
 * - public: anyone;
 * - miniApp: any Telegram user with valid initData (`Authorization: tma <initData>`); never the
 *   panel session cookie;
 * - panel: a Telegram user whose role grants `permission`, authenticated by initData (which wins
 *   when the header is present) or by the panel session cookie (`coach_panel_session`, from a
 *   Login Widget login); cookie requests other than GET/HEAD must pass the CSRF check
 *   (`X-Requested-With: coach-panel`, and a same-origin `Origin` when one is sent);
 * - panelLogin: anyone presenting Telegram Login Widget data in the body (the handler checks its
 *   signature), rate-limited per address;
 * - panelSocket: the panel WebSocket, authenticated by its first message (initData, or the session
 *   cookie of the upgrade request);
 * - botApi: our bot process, server to server (`X-Bot-Api-Secret`, IP allowlist);
 * - webhook: Telegram delivering updates (`X-Telegram-Bot-Api-Secret-Token`);
 * - billingWebhook: the external billing service (`X-Billing-Signature`, an HMAC of the raw body);
 * - metrics: Prometheus (`Authorization: Bearer <METRICS_TOKEN>` when METRICS_TOKEN is set);
 * - opsBasic: operators with the Bull Board basic-auth credentials.
 */
export type Access =
  | { kind: 'public' }
  | { kind: 'miniApp' }
  | { kind: 'panel'; permission: Permission }
  | { kind: 'panelLogin' }
  | { kind: 'panelSocket' }
  | { kind: 'botApi' }
  | { kind: 'webhook' }
  | { kind: 'billingWebhook' }
  | { kind: 'metrics' }
  | { kind: 'opsBasic' };

export const PUBLIC: Access = { kind: 'public' };
export const MINI_APP = { kind: 'miniApp' } as const;
export const BOT_API: Access = { kind: 'botApi' };
export const BILLING_WEBHOOK: Access = { kind: 'billingWebhook' };
export const PANEL_LOGIN: Access = { kind: 'panelLogin' };
export const panel = <P extends Permission>(permission: P) => ({ kind: 'panel', permission }) as const;

/** Access kinds whose guard authenticates a Telegram user, so handlers get `user`. */
export type UserAccess = { kind: 'miniApp' } | { kind: 'panel'; permission: Permission };
