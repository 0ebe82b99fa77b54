import { randomUUID } from 'node:crypto';
import Koa from 'koa';
import { koaBody } from 'koa-body';
import type pg from 'pg';
import { z } from 'zod';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import { surveyAnswersSchema } from '../src/domain/survey-answers.ts';
import { INSERT_SUBMISSION, LOCK_APPLICANT, SELECT_PLAN_QUOTA } from '../src/domain/surveys.ts';
import { authHeader, TEST_BOT_TOKEN, validAnswers } from '../test/helpers/init-data.ts';
import { createTestDatabase } from '../test/helpers/test-database.ts';
import { startTestSystem } from '../test/helpers/test-system.ts';
import {
  initDataUser,
  listen,
  pgText,
  rawPool,
  SELECT_USER_BY_TELEGRAM_ID,
} from './helpers/baseline-server.ts';
import {
  type HttpRun,
  type Measure,
  measureHttp,
  progress,
  round,
  runLine,
  sideFields,
} from './helpers/measure.ts';
import { requireWrk } from './helpers/wrk.ts';
import { medianRatio } from './http-me.ts';

const FIRST_TELEGRAM_ID = 5_200_000_000;
const DAY_MS = 24 * 3600_000;
const body = z.object({ answers: surveyAnswersSchema }).strict();
/** submitSurvey's own statements (src/domain/surveys.ts), run through pg. */
const LOCK_SQL = pgText(LOCK_APPLICANT);
const QUOTA_SQL = pgText(SELECT_PLAN_QUOTA);
const INSERT_SQL = pgText(INSERT_SUBMISSION);
const ADMINS_SQL =
  "select id, telegram_id, role, language_code from telegram_user where tenant_id = $1 and (role in ('owner', " +
  "'trainer', 'support')) and notify_new_applications = true and unreachable_at is null and id != $2";
const METRICS_SQL = `insert into outbox (tenant_id, queue, job_name, job_id, payload, attempts, created_at)
  values ($1, $2, $3, $4, $5, 0, $6) on conflict (job_id) do nothing`;

/**
 * `POST /api/surveys` on the real web process (startTestSystem, no worker: plans stay queued, so
 * the process does the request's work and relays its outbox rows, nothing else) against Koa +
 * raw pg doing the SAME statements (the project's own texts, imported where they are constants)
 * in one transaction: the auth read, the per-user lock (which also reads the applicant), the quota
 * and admin reads, the one statement inserting survey, application, plan and outbox job, and the
 * metrics trigger's outbox insert. The baseline has its own database, so the project's relay never
 * publishes its rows. Every request is a different user (wrk cycles through N signed headers),
 * each made "fresh" first so auth writes nothing; PLANS_PER_USER_PER_DAY is raised because users
 * are reused across runs. Interleaved pairs at 16 connections, then at 64.
 *
 *   npm run bench -- surveys [seconds per run] [pairs] [users]
 */
export async function apiSurveys(seconds = 10, pairs = 3, users = 10_000): Promise<Measure[]> {
  requireWrk();
  const system = await startTestSystem({
    worker: false,
    // OUTBOX_POLL_MS at its production default (commits wake the relay anyway).
    env: { LOG_LEVEL: 'warn', PLANS_PER_USER_PER_DAY: '1000', OUTBOX_POLL_MS: '1000' },
  });
  const baselineDb = await createTestDatabase();
  const projectPool = rawPool(system.db.url);
  const pool = rawPool(baselineDb.url);
  let server: { url: string; close(): Promise<void> } | undefined;
  try {
    const maxAge = system.config.telegram.initDataMaxAgeSeconds;
    const authHeaders = Array.from({ length: users }, (_, i) => authHeader({ id: FIRST_TELEGRAM_ID + i }));
    // One real request creates the first user with the profile auth writes; every other user of
    // both databases copies it, with last_seen_at now, so no request of the runs upserts.
    const me = await system.request('/api/me', { auth: authHeaders[0] });
    if (me.status !== 200) throw new Error(`GET /api/me answered ${me.status}`);
    const [profile] = (
      await projectPool.query(SELECT_USER_BY_TELEGRAM_ID, [DEFAULT_TENANT_ID, FIRST_TELEGRAM_ID])
    ).rows;
    for (const target of [projectPool, pool]) {
      await target.query(
        `insert into telegram_user (id, tenant_id, telegram_id, first_name, last_name, username, language_code,
           is_premium, last_seen_at, created_at, updated_at)
         select gen_random_uuid(), $1, $2::bigint + g, $3, $4, $5, $6, $7, now(), now(), now()
         from generate_series(0, $8::int - 1) g on conflict (tenant_id, telegram_id) do nothing`,
        [
          DEFAULT_TENANT_ID,
          FIRST_TELEGRAM_ID,
          profile.first_name,
          profile.last_name,
          profile.username,
          profile.language_code,
          profile.is_premium,
          users,
        ],
      );
    }

    const raw = new Koa();
    raw.use(koaBody());
    raw.use(async (ctx) => {
      const user = initDataUser(ctx, TEST_BOT_TOKEN, maxAge);
      const { answers } = body.parse(ctx.request.body);
      const { rows } = await pool.query(SELECT_USER_BY_TELEGRAM_ID, [DEFAULT_TENANT_ID, user.id]);
      if (!rows[0]) ctx.throw(401);
      const ids = await rawSubmitSurvey(pool, rows[0].id, answers);
      ctx.status = 202;
      ctx.set('Location', `/api/plans/${ids.planId}`);
      ctx.body = { ...ids, plan: { id: ids.planId, status: 'queued' } };
    });
    server = await listen(raw);
    const sides = { project: `${system.baseUrl}/api/surveys`, rawPg: `${server.url}/api/surveys` };
    const payload = JSON.stringify({ answers: validAnswers });
    const lines: Measure[] = [];
    // Warm-up on a few users, then pairs per connection count.
    for (const url of Object.values(sides)) {
      await measureHttp({ url, connections: 16, seconds: 2, method: 'POST', body: payload, authHeaders });
    }
    for (const connections of [16, 64]) {
      const runs: Record<keyof typeof sides, HttpRun[]> = { project: [], rawPg: [] };
      for (let pair = 1; pair <= pairs; pair++) {
        for (const [side, url] of Object.entries(sides) as [keyof typeof sides, string][]) {
          const run = await measureHttp({
            url,
            connections,
            seconds,
            method: 'POST',
            body: payload,
            authHeaders,
          });
          runs[side].push(run);
          lines.push({ ...runLine('surveys', side, pair, run), connections });
          progress(
            `c=${connections} pair ${pair} ${side}: ${round(run.reqPerSec)} req/s, p99 ${round(run.p99Ms)} ms`,
          );
          // The project's relay publishes the run's outbox rows; let it finish before the next run.
          if (side === 'project') await outboxDrained(projectPool);
        }
      }
      lines.push({
        benchmark: 'surveys',
        side: 'summary (medians)',
        connections,
        secondsPerRun: seconds,
        pairs,
        ...sideFields('project', runs.project),
        ...sideFields('rawPg', runs.rawPg),
        ratioToRawPg: round(medianRatio(runs.project, runs.rawPg), 3),
        target: 0.5,
      });
    }
    return lines;
  } finally {
    await server?.close();
    await pool.end();
    await projectPool.end();
    await system.stop();
    await baselineDb.drop();
  }
}

/** What submitSurvey sends to PostgreSQL, statement for statement, as parameterised SQL. */
async function rawSubmitSurvey(pool: pg.Pool, userId: string, answers: unknown) {
  const tenant = DEFAULT_TENANT_ID;
  const now = new Date();
  const [surveyId, applicationId, planId] = [randomUUID(), randomUUID(), randomUUID()];
  const client = await pool.connect();
  try {
    await client.query('begin');
    const { rows: locked } = await client.query(LOCK_SQL, [userId, tenant]);
    const { rows: quota } = await client.query(QUOTA_SQL, [tenant, userId, new Date(now.getTime() - DAY_MS)]);
    if (!locked[0] || quota[0].used >= 1000) throw new Error('the baseline lost its user or its quota');
    // queueNewApplicationAlerts' statement (src/domain/admin-alerts.ts; no TELEGRAM_ADMINS here).
    await client.query(ADMINS_SQL, [tenant, userId]);
    await client.query(INSERT_SQL, [
      ...[surveyId, tenant, userId, JSON.stringify(answers), now],
      ...[applicationId, tenant, userId, surveyId, now],
      ...[planId, tenant, userId, surveyId, now, now],
      ...[
        tenant,
        'plans',
        'plans.generate',
        `plan-${planId}`,
        JSON.stringify({ tenantId: tenant, planId }),
        now,
      ],
    ]);
    // The metrics trigger (enqueueOnce's statement): one recompute per tenant per 10 s window.
    const notBefore = Math.ceil(now.getTime() / 10_000) * 10_000;
    await client.query(METRICS_SQL, [
      tenant,
      'metrics',
      'metrics.recompute',
      `metrics-${tenant}-${notBefore}`,
      JSON.stringify({ tenantId: tenant, notBefore }),
      now,
    ]);
    await client.query('commit');
    return { surveyId, applicationId, planId };
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
}

async function outboxDrained(pool: pg.Pool): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { rows } = await pool.query('select count(*)::int as n from outbox where published_at is null');
    if (rows[0].n === 0) return;
    if (Date.now() > deadline) throw new Error(`${rows[0].n} outbox rows still unpublished after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
