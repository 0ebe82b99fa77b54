import test from 'ava';
import { checkHandlers, jobHandlers } from '../jobs/catalogue.ts';
import { generatePlanJob } from '../jobs/generate-plan.ts';
import { ConfigError, loadConfig } from '../src/config/env.ts';
import { JOBS } from '../src/queue/job-catalogue.ts';
import { workerQueues } from '../workers/worker-process.ts';

test('defaults follow DESIGN.md', (t) => {
  const config = loadConfig({});
  t.is(config.http.port, 3000);
  t.is(config.telegram.initDataMaxAgeSeconds, 86_400);
  t.is(config.telegram.messagesPerSecond, 30);
  t.is(config.ai.requestsPerMinute, 60);
  t.is(config.plans.perUserPerDay, 3);
  t.is(config.ai.provider, 'offline');
  t.is(config.telegram.apiRoot, 'https://api.telegram.org');
  t.deepEqual(workerQueues(config), ['plans', 'notifications', 'metrics', 'billing']);
  t.like(config.billing, {
    provider: 'stars',
    syncIntervalMs: 900_000,
    url: undefined,
    webhookSecret: undefined,
  });
});

test('the http billing provider needs BILLING_URL; a short webhook secret is refused', (t) => {
  t.throws(() => loadConfig({ BILLING_PROVIDER: 'http' }), {
    instanceOf: ConfigError,
    message: 'Invalid BILLING_URL: required when BILLING_PROVIDER=http',
  });
  const config = loadConfig({ BILLING_PROVIDER: 'http', BILLING_URL: 'https://billing.example/api/' });
  t.is(config.billing.url, 'https://billing.example/api');
  t.throws(() => loadConfig({ BILLING_WEBHOOK_SECRET: 'short' }), {
    message: /^Invalid BILLING_WEBHOOK_SECRET/,
  });
  t.throws(() => loadConfig({ BILLING_PROVIDER: 'paypal' }), { message: /^Invalid BILLING_PROVIDER/ });
});

test('an OpenAI key selects the openai provider; lists are comma-separated', (t) => {
  const config = loadConfig({ OPENAI_API_KEY: 'sk-x', TELEGRAM_ADMINS: '1, 2', WORKER_QUEUES: 'plans' });
  t.is(config.ai.provider, 'openai');
  t.deepEqual(config.telegram.admins, ['1', '2']);
  t.deepEqual(config.worker.queues, ['plans']);
});

test('a bad value stops boot with one line naming the variable', (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: 'abc' }, /^Invalid PORT: /],
    [{ DATABASE_URL: 'mysql://x' }, /^Invalid DATABASE_URL: /],
    [{ REDIS_URL: 'not a url' }, /^Invalid REDIS_URL: /],
    [{ TELEGRAM_BOT_TOKEN: 'nope' }, /^Invalid TELEGRAM_BOT_TOKEN: /],
    [{ TELEGRAM_ADMINS: '12,abc' }, /^Invalid TELEGRAM_ADMINS/],
    [{ AI_PROVIDER: 'openai' }, /^Invalid OPENAI_API_KEY: required/],
    [{ PLANS_PER_USER_PER_DAY: '0' }, /^Invalid PLANS_PER_USER_PER_DAY: /],
    [{ WORKER_QUEUES: 'Plans!' }, /^Invalid WORKER_QUEUES/],
    [{ LOG_LEVEL: 'loud' }, /^Invalid LOG_LEVEL: /],
    [{ TELEGRAM_WEBHOOK_URL: 'https://x.example/hook' }, /^Invalid TELEGRAM_WEBHOOK_SECRET: /],
    // Telegram's setWebhook would refuse these at runtime and the bot would hear nothing.
    [{ TELEGRAM_WEBHOOK_SECRET: 'abc+def/ghi=' }, /^Invalid TELEGRAM_WEBHOOK_SECRET: /],
    [{ TELEGRAM_WEBHOOK_SECRET: 'x'.repeat(257) }, /^Invalid TELEGRAM_WEBHOOK_SECRET: /],
    [{ TRUST_PROXY: 'yes' }, /^Invalid TRUST_PROXY: /],
  ];
  for (const [env, message] of cases) {
    const error = t.throws(() => loadConfig(env), { instanceOf: ConfigError });
    t.regex(error!.message, message, JSON.stringify(env));
    t.false(error!.message.includes('\n'), 'one line');
  }
});

test('the job catalogue has exactly one handler per job', (t) => {
  t.notThrows(() => checkHandlers());
  t.deepEqual(Object.keys(jobHandlers).sort(), Object.keys(JOBS).sort());
  const { 'plans.generate': _missing, ...withoutOne } = jobHandlers;
  t.throws(() => checkHandlers(JOBS, withoutOne), { message: /"plans.generate" has no handler/ });
  t.throws(() => checkHandlers(JOBS, { ...jobHandlers, 'plans.unknown': generatePlanJob }), {
    message: /handler for unknown job "plans.unknown"/,
  });
});

test('WORKER_QUEUES must name queues of the catalogue', (t) => {
  t.deepEqual(workerQueues(loadConfig({ WORKER_QUEUES: 'plans' })), ['plans']);
  t.deepEqual(workerQueues(loadConfig({})), ['plans', 'notifications', 'metrics', 'billing']);
  const error = t.throws(() => workerQueues(loadConfig({ WORKER_QUEUES: 'plans,unknown' })), {
    instanceOf: ConfigError,
  });
  t.regex(
    error!.message,
    /^Invalid WORKER_QUEUES: unknown queue "unknown" \(known: plans, notifications, metrics, billing\)$/,
  );
});
