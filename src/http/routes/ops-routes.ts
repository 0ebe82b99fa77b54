import { z } from 'zod';
import { paidUpSql } from '../../billing/subscriptions.ts';
import { collectQueueCounts } from '../../observability/queue-metrics.ts';
import { readOutboxStatus } from '../../queue/outbox-status.ts';
import { probeRedis } from '../../queue/redis-connection.ts';
import { withTimeout } from '../../util/with-timeout.ts';
import { PUBLIC } from '../routing/access.ts';
import { defineRoute } from '../routing/define-route.ts';
import type { RouteDeps } from '../routing/route-deps.ts';
import { errorSchema } from '../schemas.ts';

/** The outbox's backlog and parked rows, sampled at scrape time in the web process only. */
async function sampleOutbox(deps: RouteDeps): Promise<void> {
  try {
    const status = await readOutboxStatus(deps.orm.em.fork());
    deps.metrics.outboxPending.set(status.pending);
    deps.metrics.outboxOldestAgeSeconds.set(status.oldestAgeSeconds);
    deps.metrics.outboxParked.set(status.parked);
  } catch {
    // Database down: /readyz says so; keep the last values.
  }
}

/** Daily active users per tenant, sampled at scrape time in the web process only. */
async function sampleDailyActiveUsers(deps: RouteDeps): Promise<void> {
  try {
    const rows: { tenant_id: string; count: string }[] = await deps.orm.em
      .getConnection('read')
      .execute(
        "select tenant_id, count(*) as count from telegram_user where last_seen_at > now() - interval '1 day' group by tenant_id",
      );
    deps.metrics.dailyActiveUsers.reset();
    for (const row of rows) deps.metrics.dailyActiveUsers.set({ tenant: row.tenant_id }, Number(row.count));
  } catch {
    // Database down: /readyz says so; the scrape still answers with what it has.
  }
}

/**
 * Paid-up subscriptions per tenant (active, or cancelled inside the period already paid for: the
 * same rule as isPaidUp), sampled at scrape time in the web process only. Tenants without any
 * disappear from the gauge rather than keep their last value.
 */
async function sampleActiveSubscriptions(deps: RouteDeps): Promise<void> {
  try {
    const rows: { tenant_id: string; count: string }[] = await deps.orm.em.getConnection('read').execute(
      `select tenant_id, count(*) as count from subscription
         where ${paidUpSql('subscription', 'now()')}
         group by tenant_id`,
    );
    deps.metrics.subscriptionsActive.reset();
    for (const row of rows)
      deps.metrics.subscriptionsActive.set({ tenant: row.tenant_id }, Number(row.count));
  } catch {
    // Database down: /readyz says so; the scrape still answers with what it has.
  }
}

const check = z.enum(['ok', 'down']);
const readinessSchema = z.object({
  status: z.enum(['ready', 'unavailable']),
  checks: z.object({ postgres: check, redis: check }),
  shuttingDown: z.boolean(),
});

const tags = ['Ops'];

export const opsRoutes = [
  defineRoute({
    name: 'liveness',
    method: 'GET',
    path: '/healthz',
    summary: 'Liveness: the process answers',
    tags,
    access: PUBLIC,
    responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('ok') }) } },
    async handler() {
      return { status: 200, body: { status: 'ok' as const } };
    },
  }),

  defineRoute({
    name: 'readiness',
    method: 'GET',
    path: '/readyz',
    summary: 'Readiness: PostgreSQL and Redis answer within a second, and the process is not draining',
    tags,
    access: PUBLIC,
    responses: {
      200: { description: 'Ready', schema: readinessSchema },
      503: { description: 'A dependency is down, or shutting down', schema: readinessSchema },
    },
    async handler(_request, deps) {
      const probe = async (run: () => Promise<unknown>) => {
        try {
          await withTimeout(1_000, run());
          return 'ok' as const;
        } catch {
          return 'down' as const;
        }
      };
      const [postgres, redis] = await Promise.all([
        probe(() => deps.orm.em.getConnection().execute('select 1')),
        probe(() => probeRedis(deps.redis)),
      ]);
      const shuttingDown = deps.isShuttingDown();
      const ready = postgres === 'ok' && redis === 'ok' && !shuttingDown;
      const body = {
        status: ready ? ('ready' as const) : ('unavailable' as const),
        checks: { postgres, redis },
        shuttingDown,
      };
      return ready ? { status: 200, body } : { status: 503, body };
    },
  }),

  defineRoute({
    name: 'prometheusMetrics',
    method: 'GET',
    path: '/metrics',
    summary:
      'Prometheus exposition (queue counts, outbox backlog and daily active users sampled at scrape time)',
    tags,
    access: { kind: 'metrics' },
    responses: { 200: { description: 'Prometheus text format', contentType: 'text/plain' } },
    async handler(_request, deps) {
      await Promise.all([
        collectQueueCounts(deps.metrics, deps.queues)(),
        sampleDailyActiveUsers(deps),
        sampleActiveSubscriptions(deps),
        sampleOutbox(deps),
      ]);
      return {
        status: 200,
        headers: { 'Content-Type': deps.metrics.registry.contentType },
        body: await deps.metrics.registry.metrics(),
      };
    },
  }),

  defineRoute({
    name: 'bullBoard',
    method: 'GET',
    path: '/admin/queues',
    summary: 'Bull Board, the queue UI (only mounted when BULL_BOARD_USER and BULL_BOARD_PASSWORD are set)',
    tags,
    access: { kind: 'opsBasic' },
    responses: { 200: { description: 'The Bull Board UI', contentType: 'text/html' } },
    mountedElsewhere: true,
  }),

  defineRoute({
    name: 'panelSocket',
    method: 'GET',
    path: '/api/panel/ws',
    summary:
      'Panel live events over WebSocket; the first message authenticates ({"type":"auth","initData"}), see docs/panel-live-updates.md',
    tags: ['Panel: live'],
    access: { kind: 'panelSocket' },
    responses: { 426: { description: 'Not a WebSocket upgrade request', schema: errorSchema } },
    async handler() {
      return {
        status: 426,
        headers: { Upgrade: 'websocket' },
        body: { error: { code: 'upgrade_required', message: 'Open this endpoint as a WebSocket.' } },
      };
    },
  }),
];
