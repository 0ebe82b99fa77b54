import pg from 'pg';
import { DEFAULT_TENANT_ID } from '../../src/db/orm.ts';
import { EXAMPLE_ANSWERS } from '../../src/domain/survey-answers.ts';

/**
 * Millions of rows in seconds: one `insert … select from generate_series` per table on one
 * connection, never through the ORM (a unit of work over a million entities would take minutes and
 * gigabytes). Ids are derived from the row number (`rowId(kind, i)`), so a user, their survey,
 * application and plan link up without lookups, and a bench can name any row it wants to read.
 */

/** A uuid whose last 12 hex digits are `i` and whose 4th group names the table. */
export function rowId(kind: RowKind, i: number): string {
  return `00000000-0000-4000-${KIND[kind]}-${i.toString(16).padStart(12, '0')}`;
}

type RowKind = 'user' | 'survey' | 'application' | 'plan' | 'audit' | 'subscription' | 'event';
const KIND: Record<RowKind, string> = {
  user: '8101',
  survey: '8102',
  application: '8103',
  plan: '8104',
  audit: '8105',
  subscription: '8106',
  event: '8107',
};
/** The same in SQL, for `i` a bigint expression. */
const sqlId = (kind: RowKind, i: string) =>
  `('00000000-0000-4000-${KIND[kind]}-' || lpad(to_hex(${i}), 12, '0'))::uuid`;

export interface Seeder {
  /** Runs one statement; returns its wall time in ms. */
  run(sql: string, params?: unknown[]): Promise<number>;
  query<T extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export async function connectSeeder(url: string): Promise<Seeder> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  // Bench data: losing it in a crash costs a re-run, so skip the per-commit flush.
  await client.query('set synchronous_commit = off');
  await client.query("set maintenance_work_mem = '256MB'");
  // The foreign keys are deferred: a million-row insert would queue a million trigger events per
  // key and check them one by one at commit. The rows are consistent by construction (ids derive
  // from row numbers), so this session skips the triggers; that needs a superuser (the local test
  // server's `postgres`), and without one seeding is only slower.
  await client.query('set session_replication_role = replica').catch(() => {});
  return {
    async run(sql, params) {
      const started = performance.now();
      await client.query(sql, params);
      return performance.now() - started;
    },
    async query(sql, params) {
      return (await client.query(sql, params)).rows;
    },
    close: () => client.end(),
  };
}

export interface PeopleOptions {
  users: number;
  /** Applications (each with its own survey and plan); application i belongs to user ((i-1) % users) + 1. */
  applications: number;
  /** Row i (user or application) is created `i * spacingSeconds` before `now`; two rows share each instant. */
  userSpacingSeconds: number;
  applicationSpacingSeconds: number;
  now: Date;
  /** Every user a client (the client list's worst case) or none. */
  clients: boolean;
}

const ANSWERS = JSON.stringify(EXAMPLE_ANSWERS);

/**
 * Users, then one survey + application + plan per application row. Pairs of rows share a
 * created_at, so the keyset's id tie-breaker is exercised at scale too. Status mix: the newest 1%
 * and one in a thousand older applications await a decision, the rest were accepted (2/3) or
 * rejected (1/3) an hour after arrival; 3% of plans failed, the
 * newest 0.1% still queued. Plans carry no content here (see `setPlanContent`).
 */
export async function seedPeople(db: Seeder, o: PeopleOptions): Promise<Record<string, number>> {
  const T = DEFAULT_TENANT_ID;
  const now = o.now.toISOString();
  const userAt = `$2::timestamptz - (i / 2) * ${2 * o.userSpacingSeconds} * interval '1 second'`;
  const appAt = `$2::timestamptz - (i / 2) * ${2 * o.applicationSpacingSeconds} * interval '1 second'`;
  const owner = `(((i - 1) % ${o.users}) + 1)`;
  const ms: Record<string, number> = {};
  ms.users = await db.run(
    `insert into telegram_user (id, tenant_id, telegram_id, first_name, last_name, username, language_code,
        is_client, last_seen_at, created_at, updated_at)
      select ${sqlId('user', 'i')}, $1, 7000000000 + i, 'Client ' || i,
        case when i % 3 = 0 then null else 'Lastname' end, case when i % 2 = 0 then 'user_' || i end, 'en',
        ${o.clients}, $2::timestamptz - (i % 60) * interval '1 day' - (i % 86400) * interval '1 second',
        ${userAt}, ${userAt}
      from generate_series(1, ${o.users}) i`,
    [T, now],
  );
  ms.surveys = await db.run(
    `insert into survey (id, tenant_id, user_id, answers, created_at)
      select ${sqlId('survey', 'i')}, $1, ${sqlId('user', owner)}, $3::jsonb, ${appAt}
      from generate_series(1, ${o.applications}) i`,
    [T, now, ANSWERS],
  );
  ms.applications = await db.run(
    `insert into application (id, tenant_id, user_id, survey_id, status, decided_at, created_at)
      select ${sqlId('application', 'i')}, $1, ${sqlId('user', owner)}, ${sqlId('survey', 'i')},
        s.status, case when s.status <> 'new' then ${appAt} + interval '1 hour' end, ${appAt}
      from generate_series(1, ${o.applications}) i,
        lateral (select case when i <= ${Math.ceil(o.applications / 100)} or i % 1000 = 0 then 'new' when i % 3 = 0 then 'rejected' else 'accepted' end
          as status) s`,
    [T, now],
  );
  ms.plans = await db.run(
    `insert into personal_plan (id, tenant_id, user_id, survey_id, status, provider, attempts,
        created_at, started_at, ready_at, updated_at)
      select ${sqlId('plan', 'i')}, $1, ${sqlId('user', owner)}, ${sqlId('survey', 'i')}, s.status, 'offline', 1,
        ${appAt}, ${appAt} + interval '1 second',
        case when s.status = 'ready' then ${appAt} + interval '9 seconds' end, ${appAt} + interval '9 seconds'
      from generate_series(1, ${o.applications}) i,
        lateral (select case when i <= ${Math.ceil(o.applications / 1000)} then 'queued'
          when i % 33 = 0 then 'failed' else 'ready' end as status) s`,
    [T, now],
  );
  return ms;
}

/** A generated plan's content (about 11 KB of JSON) on the plans of the given application rows. */
export async function setPlanContent(db: Seeder, rows: number[], content: unknown): Promise<void> {
  await db.run(
    `update personal_plan set content = $2::jsonb
      where id in (select ${sqlId('plan', 'i')} from unnest($1::bigint[]) i)`,
    [rows, JSON.stringify(content)],
  );
}

/** Audit records by `actors` users (rows 1..actors), one every `spacingSeconds`, pairs sharing an instant. */
export async function seedAuditLog(
  db: Seeder,
  o: { rows: number; actors: number; spacingSeconds: number; now: Date },
): Promise<number> {
  return db.run(
    `insert into audit_log (id, tenant_id, actor_id, action, target_type, target_id, details, created_at)
      select ${sqlId('audit', 'i')}, $1, ${sqlId('user', `((i % ${o.actors}) + 1)`)},
        case when i % 3 = 0 then 'application.reject' else 'application.accept' end, 'application',
        ${sqlId('application', 'i')}::text,
        jsonb_build_object('userId', ${sqlId('user', 'i')}, 'telegramId', (7000000000 + i)::text, 'wasClient', false),
        $2::timestamptz - (i / 2) * ${2 * o.spacingSeconds} * interval '1 second'
      from generate_series(1, ${o.rows}) i`,
    [DEFAULT_TENANT_ID, o.now.toISOString()],
  );
}

/**
 * Stars subscriptions for users 1..count (70% active and renewing, 20% cancelled inside their
 * period, 10% expired), each with a 'started' event, and an 'expired' event for the expired ones.
 */
export async function seedSubscriptions(db: Seeder, o: { count: number; now: Date }): Promise<number> {
  const T = DEFAULT_TENANT_ID;
  const status = `case when i % 10 = 0 then 'expired' when i % 5 = 0 then 'cancelled' else 'active' end`;
  const startedAt = `$2::timestamptz - (i % 90) * interval '1 day'`;
  let ms = await db.run(
    `insert into subscription (id, tenant_id, user_id, provider, plan_title, status, renews, price, currency,
        current_period_end, started_at, ended_at, created_at, updated_at)
      select ${sqlId('subscription', 'i')}, $1, ${sqlId('user', 'i')}, 'stars', 'Monthly', ${status},
        ${status} = 'active', 250, 'XTR',
        case when ${status} = 'expired' then $2::timestamptz - interval '1 day'
          else $2::timestamptz + (1 + i % 29) * interval '1 day' end,
        ${startedAt}, case when ${status} = 'expired' then $2::timestamptz - interval '1 day' end,
        ${startedAt}, $2::timestamptz
      from generate_series(1, ${o.count}) i`,
    [T, o.now.toISOString()],
  );
  ms += await db.run(
    `insert into subscription_event (id, tenant_id, user_id, kind, at, source)
      select ${sqlId('event', 'e')}, $1, ${sqlId('user', 'i')}, e.kind, e.at, 'sync'
      from generate_series(1, ${o.count}) i,
        lateral (values (2 * i, 'started', $2::timestamptz - (i % 90) * interval '1 day'),
          (2 * i + 1, case when i % 10 = 0 then 'expired' end, $2::timestamptz - interval '1 day')) e(e, kind, at)
      where e.kind is not null`,
    [T, o.now.toISOString()],
  );
  return ms;
}

/** Fresh statistics and visibility maps, as autovacuum would leave them: index-only scans need both. */
export async function vacuumAnalyze(db: Seeder, tables: string[]): Promise<number> {
  let ms = 0;
  for (const table of tables) ms += await db.run(`vacuum (analyze) "${table}"`);
  return ms;
}

/** EXPLAIN (ANALYZE, BUFFERS) as text lines. */
export async function explain(db: Seeder, sql: string, params: unknown[] = []): Promise<string[]> {
  const rows = await db.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${sql}`, params);
  return rows.map((row) => row['QUERY PLAN']);
}

/**
 * One line for the JSON output: the plan's node types (indented levels joined by ">"), the
 * buffers touched and the execution time, e.g. "Limit>Index Scan Backward … | hit=25 | 0.09 ms".
 */
export function planSummary(lines: string[]): string {
  const nodes = lines
    .filter(
      (line) =>
        /^\s*(->\s*)?[A-Z][A-Za-z ]+(?: on | using |\s\(|$)/.test(line) &&
        !/^\s*(Planning|Execution|Buffers|Sort Key|Index Cond|Filter|Rows Removed|Heap Fetches|Recheck)/.test(
          line,
        ),
    )
    .map((line) =>
      line
        .replace(/^\s*->\s*/, '')
        .replace(/\s+\(cost=.*$/, '')
        .trim(),
    );
  const buffers = /Buffers: (.*)/.exec(lines.find((line) => line.includes('Buffers:')) ?? '')?.[1] ?? '';
  const execution = /Execution Time: ([\d.]+) ms/.exec(lines.join('\n'))?.[1] ?? '?';
  return `${nodes.join(' > ')} | ${buffers} | ${execution} ms`;
}
