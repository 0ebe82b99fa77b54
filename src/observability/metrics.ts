import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One registry per process, created at boot and passed to whoever records metrics. Metric names
 * are part of the ops contract (ops/prometheus/alerts.yml and the Grafana dashboard use them):
 * do not rename.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const metrics = {
    registry,
    telegramAuth: new Counter({
      name: 'telegram_auth_total',
      help: 'Mini App initData validations by result',
      labelNames: ['result'] as const,
      registers,
    }),
    telegramAuthErrors: new Counter({
      name: 'telegram_auth_errors_total',
      help: 'Rejected Mini App initData by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    telegramAuthSeconds: new Histogram({
      name: 'telegram_auth_seconds',
      help: 'Time to validate initData and load the caller',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    botApi403: new Counter({
      name: 'bot_api_403_responses_total',
      help: 'Requests to /api/bot refused with 403 (bad secret or source IP not allowed)',
      labelNames: ['reason'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP requests by method, route template and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers,
    }),
    planGenerationSeconds: new Histogram({
      name: 'personal_plan_generation_seconds',
      help: 'From survey accepted (plan queued) to plan ready',
      labelNames: ['provider'] as const,
      buckets: [0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
      registers,
    }),
    plans: new Counter({
      name: 'personal_plans_total',
      help: 'Plans by final status',
      labelNames: ['status'] as const,
      registers,
    }),
    notifications: new Counter({
      name: 'notifications_total',
      help: 'Telegram notifications by final status',
      labelNames: ['status'] as const,
      registers,
    }),
    dailyActiveUsers: new Gauge({
      name: 'daily_active_users',
      help: 'Mini App users seen in the last 24 hours',
      labelNames: ['tenant'] as const,
      registers,
    }),
    jobCount: new Gauge({
      name: 'bullmq_job_count',
      help: 'Jobs per queue and state (sampled at scrape time)',
      labelNames: ['queue', 'state'] as const,
      registers,
    }),
    outboxPending: new Gauge({
      name: 'outbox_pending',
      help: 'Outbox rows waiting to be published to the queues (sampled at scrape time)',
      registers,
    }),
    outboxOldestAgeSeconds: new Gauge({
      name: 'outbox_oldest_age_seconds',
      help: 'Age of the oldest outbox row waiting to be published; 0 when none waits',
      registers,
    }),
    outboxParked: new Gauge({
      name: 'outbox_parked',
      help: 'Outbox rows parked after failing to publish (unknown job, invalid payload); need an operator',
      registers,
    }),
    jobDuration: new Histogram({
      name: 'bullmq_job_duration_seconds',
      help: 'Job processing time by queue, job name and outcome',
      labelNames: ['queue', 'job', 'outcome'] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120],
      registers,
    }),
    billingSyncDuration: new Histogram({
      name: 'billing_sync_duration_seconds',
      help: 'billing.sync runs by provider and result (ok, failed)',
      labelNames: ['provider', 'result'] as const,
      buckets: [0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    billingSyncFailures: new Counter({
      name: 'billing_sync_failures_total',
      help: 'billing.sync runs that failed, by provider and reason (timeout, provider_down, bad_reply, error)',
      labelNames: ['provider', 'reason'] as const,
      registers,
    }),
    subscriptionsActive: new Gauge({
      name: 'subscriptions_active',
      help: 'Paid-up subscriptions (active, or cancelled inside the paid period), sampled at scrape time',
      labelNames: ['tenant'] as const,
      registers,
    }),
    starsPayments: new Counter({
      name: 'stars_payments_total',
      help: 'Telegram Stars payments recorded, by kind (first, renewal, refund) and who saw it first (update, sync, panel)',
      labelNames: ['kind', 'source'] as const,
      registers,
    }),
    starsPreCheckouts: new Counter({
      name: 'stars_pre_checkout_total',
      help: 'Pre-checkout queries answered, by result (ok or the refusal reason)',
      labelNames: ['result'] as const,
      registers,
    }),
    starsPaymentErrors: new Counter({
      name: 'stars_payment_errors_total',
      help: 'Payment steps that failed, by stage (pre_checkout, payment, second_subscription, refund, invoice, cancel)',
      labelNames: ['stage'] as const,
      registers,
    }),
  };
  // Payment error series exist from boot at 0, so the first error is an increase Prometheus can see.
  for (const stage of ['pre_checkout', 'payment', 'second_subscription', 'refund', 'invoice', 'cancel']) {
    metrics.starsPaymentErrors.inc({ stage }, 0);
  }
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
