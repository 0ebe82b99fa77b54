import pg from 'pg';
import { generateOfflinePlan } from '../src/ai/offline-plan-generator.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import { EXAMPLE_ANSWERS } from '../src/domain/survey-answers.ts';
import { encodeCursor } from '../src/http/cursor.ts';
import { panelLogin } from '../test/helpers/panel-login.ts';
import { startTestSystem } from '../test/helpers/test-system.ts';
import { type Latency, sequentialGets, sequentialRuns } from './helpers/latency.ts';
import { type Measure, progress, round } from './helpers/measure.ts';
import {
  connectSeeder,
  explain,
  planSummary,
  seedAuditLog,
  seedPeople,
  setPlanContent,
  vacuumAnalyze,
} from './helpers/seed-at-scale.ts';

const OWNER = 5_300_000_002;
const ROWS = 1_000_000;
const PAGE = 20;

/** The three keyset-paged panel lists, and the SQL the ORM sends for each (select *, tenant filter). */
const LISTS = [
  { name: 'applications', path: '/api/panel/applications', table: 'application', extra: '' },
  { name: 'clients', path: '/api/panel/clients', table: 'telegram_user', extra: 'and x.is_client = true' },
  { name: 'auditLog', path: '/api/panel/audit-log', table: 'audit_log', extra: '' },
] as const;

function listSql(list: (typeof LISTS)[number], tail: 'first' | 'keyset' | 'offset', depth = 0): string {
  const after = tail === 'keyset' ? 'and (x.created_at, x.id) < ($2, $3)' : '';
  const offset = tail === 'offset' ? `offset ${depth}` : '';
  return `select x.* from "${list.table}" x where x.tenant_id = $1 ${list.extra} ${after}
    order by x.created_at desc, x.id desc limit ${PAGE + 1} ${offset}`;
}

/**
 * The panel's lists at 1,000,000 rows each: 1M users (all clients), 1M applications with their
 * surveys and plans, 1M audit records, seeded by generate_series into the system's own database
 * (pairs of rows share a created_at, so the id tie-breaker is exercised). For each list:
 * - first: `GET <list>?limit=20` through the real web process with a panel session cookie;
 * - deep: the same with the keyset cursor of row `depth` (the page showing rows depth+1…depth+20);
 * - offset: the same page by `OFFSET depth` in raw SQL on a pg connection, the baseline a
 *   page-number UI would pay (the ORM's query with OFFSET instead of the cursor);
 * - rawFirst / rawDeep: the keyset SQL alone on that connection, to separate SQL from HTTP + ORM.
 * One request at a time; p50/p99 over `requests` (offset: `offsetRuns`, it is slow by design).
 * EXPLAIN (ANALYZE, BUFFERS) of first, deep and offset: one summary per plan in the JSON line, the
 * full text on stderr (docs/benchmarks.md quotes it). Plans of the measured pages carry a real
 * generated plan's content (about 11 KB); the others none, which keeps seeding to seconds and
 * changes nothing a list reads.
 *
 *   npm run bench -- pages [requests] [depth] [offset runs]
 */
export async function pagesAtScale(requests = 300, depth = 900_000, offsetRuns = 15): Promise<Measure[]> {
  const system = await startTestSystem({
    worker: false,
    env: { LOG_LEVEL: 'warn', TELEGRAM_ADMINS: String(OWNER) },
  });
  const seeder = await connectSeeder(system.db.url);
  const pool = new pg.Pool({ connectionString: system.db.url, max: 1 });
  try {
    const now = new Date();
    const started = performance.now();
    const seeded = await seedPeople(seeder, {
      users: ROWS,
      applications: ROWS,
      userSpacingSeconds: 10,
      applicationSpacingSeconds: 10,
      now,
      clients: true,
    });
    seeded.audit = await seedAuditLog(seeder, { rows: ROWS, actors: 5, spacingSeconds: 10, now });
    const content = generateOfflinePlan({ answers: EXAMPLE_ANSWERS, languageCode: 'en', firstName: null });
    const measured = [...range(1, 2 * PAGE), ...range(depth - PAGE, depth + 2 * PAGE)];
    await setPlanContent(seeder, measured, content);
    seeded.vacuum = await vacuumAnalyze(seeder, [
      'telegram_user',
      'survey',
      'application',
      'personal_plan',
      'audit_log',
    ]);
    const seedSeconds = round((performance.now() - started) / 1000, 1);
    progress(
      `seeded in ${seedSeconds} s (${Object.entries(seeded)
        .map(([k, ms]) => `${k} ${Math.round(ms)} ms`)
        .join(', ')})`,
    );

    const cookie = await panelLogin(() => system).loggedIn(OWNER);
    const lines: Measure[] = [];
    for (const list of LISTS) {
      // Where page depth/20 + 1 starts: the (created_at, id) of row `depth`, found once by OFFSET.
      const [edge] = (
        await pool.query(listSql(list, 'offset', depth - 1).replace(/limit \d+/, 'limit 1'), [
          DEFAULT_TENANT_ID,
        ])
      ).rows;
      const cursor = encodeCursor({ createdAt: edge.created_at, id: edge.id });
      const firstUrl = `${system.baseUrl}${list.path}?limit=${PAGE}`;
      const deepUrl = `${firstUrl}&cursor=${cursor}`;
      const check = (await (await fetch(deepUrl, { headers: { cookie } })).json()) as { items: unknown[] };
      if (check.items.length !== PAGE)
        throw new Error(`${list.name}: the deep page has ${check.items.length} rows`);

      const sql = (tail: 'first' | 'keyset' | 'offset') => listSql(list, tail, depth);
      const keysetParams = [DEFAULT_TENANT_ID, edge.created_at, edge.id];
      const options = { requests, warmup: 30 };
      const first = await sequentialGets(firstUrl, { cookie }, options);
      const deep = await sequentialGets(deepUrl, { cookie }, options);
      const runs = { runs: requests, warmup: 30 };
      const rawFirst = await sequentialRuns(() => pool.query(sql('first'), [DEFAULT_TENANT_ID]), runs);
      const rawDeep = await sequentialRuns(() => pool.query(sql('keyset'), keysetParams), runs);
      const offset = await sequentialRuns(() => pool.query(sql('offset'), [DEFAULT_TENANT_ID]), {
        runs: offsetRuns,
        warmup: 2,
      });
      const plans: Record<string, string> = {};
      for (const [side, text, params] of [
        ['first', sql('first'), [DEFAULT_TENANT_ID]],
        ['deep', sql('keyset'), keysetParams],
        ['offset', sql('offset'), [DEFAULT_TENANT_ID]],
      ] as const) {
        const plan = await explain(seeder, text, [...params]);
        process.stderr.write(`\n--- EXPLAIN ${list.name} ${side}\n${text}\n${plan.join('\n')}\n`);
        plans[`${side}Plan`] = planSummary(plan);
      }
      progress(
        `${list.name}: first p50 ${first.p50Ms} ms, deep p50 ${deep.p50Ms} ms, offset p50 ${offset.p50Ms} ms`,
      );
      lines.push({
        side: list.name,
        rows: ROWS,
        depth,
        ...fields('first', first),
        ...fields('deep', deep),
        ...fields('offset', offset),
        rawFirstP50Ms: rawFirst.p50Ms,
        rawDeepP50Ms: rawDeep.p50Ms,
        deepToFirstP50: round(deep.p50Ms / first.p50Ms, 2),
        deepToFirstP99: round(deep.p99Ms / first.p99Ms, 2),
        offsetToDeepP50: round(offset.p50Ms / deep.p50Ms, 1),
        target: 1.5,
        ...plans,
      });
    }
    lines.push({ side: 'seed', rows: ROWS, seedSeconds, requests, offsetRuns });
    return lines;
  } finally {
    await pool.end();
    await seeder.close();
    await system.stop();
  }
}

function fields(side: string, latency: Latency): Measure {
  return { [`${side}P50Ms`]: latency.p50Ms, [`${side}P99Ms`]: latency.p99Ms };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
