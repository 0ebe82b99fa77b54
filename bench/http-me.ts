import Koa from 'koa';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import { SELECT_LATEST_PLAN_SUMMARY } from '../src/domain/plans.ts';
import { SELECT_PROFILE_SUBSCRIPTION } from '../src/http/user-profile.ts';
import { authHeader, TEST_BOT_TOKEN } from '../test/helpers/init-data.ts';
import { seedUsers } from '../test/helpers/seed.ts';
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
  medians,
  progress,
  round,
  runLine,
  sideFields,
} from './helpers/measure.ts';
import { requireWrk } from './helpers/wrk.ts';

const TELEGRAM_ID = 5_100_000_001;
/** The project's own statements (src/domain/plans.ts, src/http/user-profile.ts), run through pg. */
const LATEST_PLAN_SQL = pgText(SELECT_LATEST_PLAN_SUMMARY);
const SUBSCRIPTION_SQL = pgText(SELECT_PROFILE_SUBSCRIPTION);

/**
 * Authenticated `GET /api/me` on the real web process (startTestSystem: createWebProcess, its own
 * database and queue prefix; no worker, so nothing else competes for this process) against two
 * baselines in the same process, measured in interleaved triples (project, raw pg, bare Koa) so a
 * noisy neighbour hits every side alike:
 * - raw pg: Koa + the same initData check + the same three indexed SELECTs the route makes, their
 *   texts imported from the project (user by Telegram id, then the latest plan's summary and the
 *   subscription side by side) through a pg Pool of 10, the size of the project's pool: the floor
 *   for a DB-backed endpoint;
 * - bare Koa: a handler returning a small JSON, the floor of HTTP on this machine (context).
 * The user is seeded and made "fresh" by one request first, so the route writes nothing (a profile
 * older than 5 minutes would be upserted). The user has no plan and no subscription.
 *
 *   npm run bench -- me [seconds per run] [pairs] [connections]
 */
export async function apiMe(seconds = 10, pairs = 3, connections = 16): Promise<Measure[]> {
  requireWrk();
  // OUTBOX_POLL_MS at its production default: the test systems' 100 ms poll would add ten empty
  // relay transactions a second to the project side.
  const system = await startTestSystem({ worker: false, env: { LOG_LEVEL: 'warn', OUTBOX_POLL_MS: '1000' } });
  const pool = rawPool(system.db.url);
  const servers: Array<{ close(): Promise<void> }> = [];
  try {
    await seedUsers(system.em(), [TELEGRAM_ID]);
    const auth = authHeader({ id: TELEGRAM_ID });
    const first = await system.request('/api/me', { auth });
    if (first.status !== 200) throw new Error(`GET /api/me answered ${first.status}`);
    const maxAge = system.config.telegram.initDataMaxAgeSeconds;

    const raw = new Koa();
    raw.use(async (ctx) => {
      const profile = initDataUser(ctx, TEST_BOT_TOKEN, maxAge);
      const { rows } = await pool.query(SELECT_USER_BY_TELEGRAM_ID, [DEFAULT_TENANT_ID, profile.id]);
      const user = rows[0];
      if (!user) ctx.throw(401);
      const [plans, subscriptions] = await Promise.all([
        pool.query(LATEST_PLAN_SQL, [DEFAULT_TENANT_ID, user.id]),
        pool.query(SUBSCRIPTION_SQL, [DEFAULT_TENANT_ID, user.id]),
      ]);
      const plan = plans.rows[0];
      const subscription = subscriptions.rows[0];
      ctx.body = {
        telegramId: user.telegram_id,
        firstName: user.first_name,
        lastName: user.last_name,
        username: user.username,
        languageCode: user.language_code,
        role: user.role,
        isClient: user.is_client ?? false,
        subscription: subscription
          ? {
              planTitle: subscription.plan_title,
              status: subscription.status,
              currentPeriodEnd: subscription.current_period_end?.toISOString() ?? null,
              renews: subscription.renews,
            }
          : null,
        latestPlan: plan
          ? { id: plan.id, status: plan.status, createdAt: plan.created_at.toISOString() }
          : null,
      };
    });
    const bare = new Koa();
    bare.use((ctx) => {
      ctx.body = { ok: true, telegramId: String(TELEGRAM_ID) };
    });
    const rawServer = await listen(raw);
    const bareServer = await listen(bare);
    servers.push(rawServer, bareServer);

    const sides = {
      project: `${system.baseUrl}/api/me`,
      rawPg: `${rawServer.url}/me`,
      bareKoa: `${bareServer.url}/`,
    };
    const check = await fetch(sides.rawPg, { headers: { authorization: auth } });
    if (check.status !== 200) throw new Error(`the raw-pg baseline answered ${check.status}`);
    // JIT, pools and caches warm on every side before anything counts.
    for (const url of Object.values(sides)) {
      await measureHttp({ url, connections, seconds: 2, authHeaders: [auth] });
    }
    const runs: Record<keyof typeof sides, HttpRun[]> = { project: [], rawPg: [], bareKoa: [] };
    const lines: Measure[] = [];
    for (let pair = 1; pair <= pairs; pair++) {
      for (const [side, url] of Object.entries(sides) as [keyof typeof sides, string][]) {
        const run = await measureHttp({ url, connections, seconds, authHeaders: [auth] });
        runs[side].push(run);
        lines.push(runLine('me', side, pair, run));
        progress(`pair ${pair} ${side}: ${round(run.reqPerSec)} req/s, p99 ${round(run.p99Ms, 1)} ms`);
      }
    }
    lines.push({
      benchmark: 'me',
      side: 'summary (medians)',
      connections,
      secondsPerRun: seconds,
      pairs,
      ...sideFields('project', runs.project),
      ...sideFields('rawPg', runs.rawPg),
      bareKoaReqPerSec: medians(runs.bareKoa).reqPerSec,
      // Per pair, then the median: both sides of a pair saw the same neighbours.
      ratioToRawPg: round(medianRatio(runs.project, runs.rawPg), 3),
      ratioToBareKoa: round(medianRatio(runs.project, runs.bareKoa), 3),
      target: 0.5,
    });
    return lines;
  } finally {
    for (const server of servers) await server.close();
    await pool.end();
    await system.stop();
  }
}

export function medianRatio(project: HttpRun[], baseline: HttpRun[]): number {
  const ratios = project.map((run, i) => run.reqPerSec / baseline[i]!.reqPerSec).sort((a, b) => a - b);
  const mid = Math.floor(ratios.length / 2);
  return ratios.length % 2 ? ratios[mid]! : (ratios[mid - 1]! + ratios[mid]!) / 2;
}
