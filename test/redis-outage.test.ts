import test from 'ava';
import { Outbox, PersonalPlan } from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import { jobIdOf } from '../src/queue/outbox-writer.ts';
import { authHeader, validAnswers } from './helpers/init-data.ts';
import { startTcpProxy } from './helpers/tcp-proxy.ts';
import { startTestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

test('Redis unreachable at submit time: 202, job delivered after Redis returns', async (t) => {
  const proxy = await startTcpProxy(6379);
  // Web and worker both reach Redis through the proxy, so cutting it is a whole-system outage:
  // no relay anywhere can publish until Redis returns.
  const redisUrl = `redis://127.0.0.1:${proxy.port}`;
  const system = await startTestSystem({ webRedisUrl: redisUrl, workerRedisUrl: redisUrl });
  t.teardown(async () => {
    await system.stop();
    await proxy.close().catch(() => {});
  });

  await proxy.cut();
  const ready = await waitFor('readyz reports Redis down', async () => {
    const response = await system.request('/readyz');
    return response.status === 503 ? response.json() : null;
  });
  t.deepEqual(ready.checks, { postgres: 'ok', redis: 'down' });

  const auth = authHeader({ id: 8001 });
  const started = Date.now();
  const response = await system.request('/api/surveys', {
    method: 'POST',
    auth,
    body: JSON.stringify({ answers: validAnswers }),
  });
  t.is(response.status, 202);
  t.true(Date.now() - started < 15_000, 'the API does not hang on Redis');
  const { plan } = await response.json();

  // While Redis is unreachable the work waits in the outbox.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const outbox = await system.em().findOneOrFail(Outbox, {
    jobId: jobIdOf('plans.generate', { tenantId: DEFAULT_TENANT_ID, planId: plan.id }),
  });
  t.is(outbox.publishedAt, null);
  t.is((await system.em().findOneOrFail(PersonalPlan, { id: plan.id })).status, 'queued');

  await proxy.restore();
  await waitFor(
    'plan ready after Redis returned',
    async () => {
      const row = await system.em().findOne(PersonalPlan, { id: plan.id });
      return row?.status === 'ready';
    },
    20_000,
  );
  await waitFor('message sent', () => system.telegram.sentMessages.some((m) => m.chatId === '8001'), 20_000);
  // The web process's own Redis client reconnects on its own schedule.
  await waitFor('ready again', async () => (await system.request('/readyz')).status === 200, 20_000);
  t.pass();
});
