import test from 'ava';
import { Outbox, PersonalPlan } from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import { jobIdOf } from '../src/queue/outbox-writer.ts';
import { authHeader, validAnswers } from './helpers/init-data.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

let system: TestSystem;
test.before(async () => {
  system = await startTestSystem({ env: { METRICS_TOKEN: 'outbox-test-token' } });
});
test.after.always(async () => {
  await system?.stop();
});

/** Rows as a renamed job (a rolling deploy) or a bad producer would leave them, older than any survey. */
async function insertBadRows(unknown: number): Promise<void> {
  const connection = system.em().getConnection();
  await connection.execute(
    `insert into outbox (tenant_id, queue, job_name, job_id, payload, attempts, created_at)
     select ?, 'plans', 'plans.renamed_in_a_deploy', 'bad-unknown-' || n, '{"tenantId":"x"}', 0, now()
     from generate_series(1, ?) n`,
    [DEFAULT_TENANT_ID, unknown],
  );
  await connection.execute(
    `insert into outbox (tenant_id, queue, job_name, job_id, payload, attempts, created_at)
     values (?, 'plans', 'plans.generate', 'bad-payload', '{"tenantId":"not-a-uuid","planId":42}', 0, now())`,
    [DEFAULT_TENANT_ID],
  );
}

async function scrape(): Promise<string> {
  const response = await system.request('/metrics', {
    headers: { authorization: 'Bearer outbox-test-token' },
  });
  return response.text();
}

test.serial(
  'rows that cannot be published never hold back a survey; they are parked with their error',
  async (t) => {
    // More bad rows than one relay pass takes (200), all ahead of the survey's row.
    await insertBadRows(250);
    const response = await system.request('/api/surveys', {
      method: 'POST',
      auth: authHeader({ id: 930001 }),
      body: JSON.stringify({ answers: validAnswers }),
    });
    t.is(response.status, 202);
    const { plan } = await response.json();
    await waitFor('the plan is ready past the bad rows', async () => {
      const row = await system.em().findOne(PersonalPlan, { id: plan.id });
      return row?.status === 'ready';
    });

    const parked = await waitFor(
      'all bad rows parked',
      async () => {
        const rows = await system.em().find(Outbox, { jobId: { $like: 'bad-%' } });
        return rows.every((row) => row.parkedAt) ? rows : null;
      },
      30_000,
      250,
    );
    t.is(parked.length, 251);
    const unknown = parked.find((row) => row.jobId === 'bad-unknown-1')!;
    t.is(unknown.attempts, 5);
    t.regex(unknown.lastError!, /unknown job "plans.renamed_in_a_deploy"/);
    t.is(unknown.publishedAt, null);
    t.regex(parked.find((row) => row.jobId === 'bad-payload')!.lastError!, /invalid payload/);
    t.true(system.logs.some((line) => line.includes('"event":"outbox_row_parked"')));

    const metrics = await scrape();
    t.regex(metrics, /^outbox_parked 251$/m);
    t.regex(metrics, /^outbox_pending 0$/m);
    t.regex(metrics, /^outbox_oldest_age_seconds 0$/m);
  },
);

test.serial('a parked row whose job a relay knows is published again (rolling deploy done)', async (t) => {
  const em = system.em();
  // What an older version parked: a real job it did not know, now due for its minute retry.
  await em.getConnection().execute(
    `update outbox set job_name = 'plans.generate', payload = ?, next_attempt_at = now()
     where job_id = 'bad-unknown-1'`,
    [JSON.stringify({ tenantId: DEFAULT_TENANT_ID, planId: '00000000-0000-4000-8000-000000000001' })],
  );
  const row = await waitFor('published', async () => {
    const found = await system.em().findOne(Outbox, { jobId: 'bad-unknown-1' });
    return found?.publishedAt ? found : null;
  });
  t.truthy(row.parkedAt, 'it stays marked as once parked, for the record');
  t.regex(await scrape(), /^outbox_parked 250$/m);
});

test.serial(
  'the relay publishes when a commit writes outbox rows, without waiting for its poll',
  async (t) => {
    // A system whose relays poll every 60 s: only the commit-time notification can explain a fast publish.
    const slow = await startTestSystem({ worker: false, env: { OUTBOX_POLL_MS: '60000' } });
    t.teardown(() => slow.stop());
    await new Promise((resolve) => setTimeout(resolve, 500));
    const response = await slow.request('/api/surveys', {
      method: 'POST',
      auth: authHeader({ id: 930002 }),
      body: JSON.stringify({ answers: validAnswers }),
    });
    const { plan } = await response.json();
    const published = await waitFor(
      'published',
      async () =>
        (
          await slow.em().findOne(Outbox, {
            jobId: jobIdOf('plans.generate', { tenantId: DEFAULT_TENANT_ID, planId: plan.id }),
          })
        )?.publishedAt,
      10_000,
    );
    t.truthy(published);
  },
);
