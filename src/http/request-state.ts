import type { Middleware, Next, ParameterizedContext } from 'koa';
import type { Logger } from '../config/logger.ts';
import type { TelegramUser } from '../db/entities/index.ts';
import type { AdminRole } from '../db/entities/telegram-user.entity.ts';
import type { EntityManager } from '../db/orm.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { TenantProfile } from '../tenants/tenant-directory.ts';

/** What the middleware chain puts on `ctx.state`, in order: request context, then the guards. */
export interface RequestState {
  requestId: string;
  log: Logger;
  tenantId: string;
  /** The coach this request is for (X-Tenant, the page's slug, or the default tenant). */
  tenant: TenantProfile;
  /** This request's own EntityManager fork. */
  em: EntityManager;
  metrics: Metrics;
  /** Set by the Mini App guard (miniApp and panel routes) or the panel session guard (panel routes). */
  user?: TelegramUser;
  /** Set when a panel route was authenticated by the session cookie rather than initData. */
  panelSession?: { tokenHash: string; expiresAt: Date };
  /** Set by the permission guard (panel routes). */
  role?: AdminRole;
}

export type AppContext = ParameterizedContext<RequestState>;
export type AppMiddleware = Middleware<RequestState>;
export type { Next };
