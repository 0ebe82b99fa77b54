import { z } from 'zod';
import { BROADCAST_SEGMENTS } from '../../db/entities/broadcast.entity.ts';
import { broadcastProgress, createBroadcast } from '../../domain/broadcasts.ts';
import { NotFoundError } from '../../domain/errors.ts';
import { loadMetricsSnapshot, readMetricsCache, writeMetricsCache } from '../../domain/metrics-store.ts';
import { METRICS_TRIGGER_WINDOW_MS, triggerMetricsRecompute } from '../../domain/metrics-trigger.ts';
import { metricsView } from '../../domain/panel-metrics.ts';
import { hasPermission } from '../../domain/permissions.ts';
import { freeText } from '../../domain/survey-answers.ts';
import { panel } from '../routing/access.ts';
import { defineRoute } from '../routing/define-route.ts';
import { uuid } from '../schemas.ts';

/** Texts over Telegram's 4096 characters are sent as several messages; this caps the total. */
const MAX_BROADCAST_LENGTH = 16_384;

const progressSchema = z.object({
  id: z.uuid(),
  status: z.enum(['fanning_out', 'sending', 'completed']),
  segment: z.enum(BROADCAST_SEGMENTS),
  total: z.number().int(),
  sent: z.number().int(),
  failed: z.number().int(),
  pending: z.number().int(),
  createdAt: z.string(),
});

const count = z.number();
const windowCounts = z.object({ new: count, accepted: count, rejected: count });
const metricsSchema = z
  .object({
    computedAt: z.string().nullable().meta({ description: 'null until the first computation' }),
    subscribers: z
      .object({
        active: count.meta({ description: 'Paid up and renewing' }),
        cancelled: count.meta({ description: 'Paid up until the period ends, not renewing' }),
        clients: count,
      })
      .meta({ description: 'Paid up: status active or cancelled and the current period not over' }),
    applications: z.object({
      pending: count,
      today: windowCounts,
      last7Days: windowCounts,
      last30Days: windowCounts,
      conversionRate: z.number().nullable(),
    }),
    plans: z.object({
      generated: count,
      failed: count,
      inProgress: count,
      averageGenerationSeconds: z.number().nullable(),
    }),
    users: z.object({ dau: count, wau: count, mau: count }),
    revenue: z
      .object({
        currency: z
          .string()
          .nullable()
          .meta({ description: "mrr's currency: XTR for Telegram Stars; null if mixed" }),
        mrr: z.number().nullable().meta({
          description:
            'Sum of prices per 30 days of paid-up renewing subscriptions; null for mixed currencies',
        }),
        activeSubscribers: count.meta({
          description: 'Paid up now (subscribers.active + subscribers.cancelled)',
        }),
        newLast30d: count.meta({ description: 'Users who started a subscription in the last 30 days' }),
        churnedLast30d: count.meta({
          description:
            'Users whose subscription expired or was refunded in the last 30 days, not paid up now',
        }),
        churnRate30d: z.number().nullable().meta({
          description: 'churned / (activeSubscribers - newLast30d + churnedLast30d); null when that is 0',
        }),
        trialToPaid30d: z.number().nullable().meta({
          description:
            'Of users whose first survey was in the last 30 days, the fraction who subscribed since',
        }),
      })
      .nullable()
      .optional()
      .meta({ description: 'Only for roles with view_revenue; null until billing knows prices' }),
  })
  .meta({ description: 'Precomputed by the metrics job; never aggregated on request' });

export const panelBroadcastRoutes = [
  defineRoute({
    name: 'createBroadcast',
    method: 'POST',
    path: '/api/panel/broadcasts',
    summary: 'Message a segment of users; progress at the Location header (audited)',
    tags: ['Panel: broadcasts'],
    access: panel('manage_clients'),
    body: z
      .object({
        text: freeText(MAX_BROADCAST_LENGTH).pipe(z.string().min(1)),
        segment: z.enum(BROADCAST_SEGMENTS),
      })
      .strict()
      .meta({ examples: [{ text: 'New programme starts Monday!', segment: 'clients' }] }),
    responses: { 202: { description: 'Accepted', schema: z.object({ id: z.uuid() }) } },
    async handler({ body, em, tenantId, user }) {
      const broadcast = await createBroadcast(em, {
        tenantId,
        actorId: user.id,
        text: body.text,
        segment: body.segment,
      });
      return {
        status: 202,
        headers: { Location: `/api/panel/broadcasts/${broadcast.id}` },
        body: { id: broadcast.id },
      };
    },
  }),

  defineRoute({
    name: 'getBroadcast',
    method: 'GET',
    path: '/api/panel/broadcasts/:broadcastId',
    summary: 'Broadcast progress, counted from its notifications',
    tags: ['Panel: broadcasts'],
    access: panel('manage_clients'),
    params: z.object({ broadcastId: uuid }),
    responses: {
      200: { description: 'Progress', schema: progressSchema },
      404: { description: 'No such broadcast' },
    },
    async handler({ params, em }) {
      const progress = await broadcastProgress(em, params.broadcastId);
      if (!progress) throw new NotFoundError('broadcast_not_found', 'No such broadcast.');
      return { status: 200, body: progress };
    },
  }),

  /**
   * Serves the last snapshot the `metrics.recompute` job stored: Redis cache, then PostgreSQL.
   * Before the first computation it answers 202 with zeroed sections and asks for a recompute.
   */
  defineRoute({
    name: 'getPanelMetrics',
    method: 'GET',
    path: '/api/panel/metrics',
    summary: 'Subscribers, applications, plans, users and (owners) revenue',
    tags: ['Panel: metrics'],
    access: panel('view_applications'),
    responses: {
      200: { description: 'The latest snapshot', schema: metricsSchema },
      202: {
        description: 'Not computed yet; a computation was requested (see Retry-After)',
        schema: metricsSchema,
      },
    },
    async handler({ em, tenantId, role }, deps) {
      const prefix = deps.config.redis.queuePrefix;
      let snapshot = (await readMetricsCache(deps.redis, prefix, tenantId)) ?? null;
      if (!snapshot) {
        snapshot = await loadMetricsSnapshot(em, tenantId);
        if (snapshot) void writeMetricsCache(deps.redis, prefix, tenantId, snapshot, 'if-absent');
      }
      const body = metricsView(snapshot, hasPermission(role, 'view_revenue'));
      if (snapshot) return { status: 200, body };
      await triggerMetricsRecompute(em, tenantId);
      return {
        status: 202,
        headers: { 'Retry-After': String(Math.ceil(METRICS_TRIGGER_WINDOW_MS / 1000)) },
        body,
      };
    },
  }),
];
