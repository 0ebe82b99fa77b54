import { createHash } from 'node:crypto';
import anyTest, { type TestFn } from 'ava';
import pg from 'pg';
import { type FakeTelegramFleet, startFakeTelegramFleet } from '../src/dev/fake-telegram-fleet.ts';
import { createSecretBox } from '../src/tenants/secret-box.ts';
import { type CliRun, runOperatorCli } from './helpers/cli-process.ts';
import { createTestDatabase, type TestDatabase } from './helpers/test-database.ts';

/**
 * The operator CLI's tenant commands, run as an operator runs them: a child process with the
 * deployment's environment, against a real PostgreSQL and a fake Bot API that knows some tokens.
 */

const KEY_1 = '1f'.repeat(32);
const KEY_2 = '2e'.repeat(32);
const KEY_3 = '3d'.repeat(32);
const token = (botId: number) => `${botId}:AAOperatorCliTestToken${botId}xx`;
const KNOWN_TOKENS = [2000001, 2000002, 2000003, 2000004, 2000005, 2000006, 2000007, 2000008].map(token);
const UNKNOWN_TOKEN = token(2999999);

interface Context {
  db: TestDatabase;
  fleet: FakeTelegramFleet;
  sql: pg.Client;
}
const test = anyTest as TestFn<Context>;

/** Words of a command line as a shell splits them; only double quotes are needed here. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2]!);
}

function runCli(
  t: { context: Context },
  commandLine: string | string[],
  options: { env?: Record<string, string>; input?: string; databaseUrl?: string } = {},
): Promise<CliRun> {
  const args = typeof commandLine === 'string' ? words(commandLine) : commandLine;
  return runOperatorCli(
    args,
    {
      DATABASE_URL: options.databaseUrl ?? t.context.db.url,
      TELEGRAM_API_ROOT: t.context.fleet.apiRoot,
      TENANT_SECRET_KEY: KEY_1,
      TELEGRAM_MINI_APP_URL: 'https://coach.example/app/',
      TELEGRAM_WEBHOOK_URL: 'https://coach.example/telegram/webhook',
      TELEGRAM_WEBHOOK_SECRET: 'operator-cli-webhook-secret',
      ...options.env,
    },
    options.input ?? '',
  );
}

/** The columns of the tenant table the tests look at, as pg returns them. */
interface TenantRow {
  id: string;
  slug: string;
  name: string;
  bot_id: string | null;
  bot_username: string | null;
  bot_token_sealed: string | null;
  bot_api_secret_digest: string | null;
  ai_requests_per_minute: number | null;
  ai_plans_per_day: number | null;
}

async function tenantRow(t: { context: Context }, slug: string) {
  const result = await t.context.sql.query('select * from tenant where slug = $1', [slug]);
  return result.rows[0] as TenantRow | undefined;
}

async function rowsOf(t: { context: Context }, table: string, tenantId: string): Promise<number> {
  const result = await t.context.sql.query(`select count(*)::int as n from "${table}" where tenant_id = $1`, [
    tenantId,
  ]);
  return result.rows[0].n;
}

test.before(async (t) => {
  const db = await createTestDatabase();
  const fleet = await startFakeTelegramFleet(KNOWN_TOKENS.map((known) => ({ token: known })));
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  t.context = { db, fleet, sql };
});

test.after.always(async (t) => {
  await t.context.sql?.end();
  await t.context.fleet?.close();
  await t.context.db?.drop();
});

test('tenant:create checks the token, seals it, prints the URLs and the bot API secret once, never the token', async (t) => {
  const botToken = KNOWN_TOKENS[0]!;
  // The token comes from stdin, as the docs recommend, so it is not in the command line.
  const run = await runCli(t, `tenant:create --slug anna --name "Anna Fit" --bot-token -`, {
    input: `${botToken}\n`,
  });
  t.is(run.code, 0, run.stderr);
  t.true(
    t.context.fleet.bot(botToken).calls.some((call) => call.method.toLowerCase() === 'getme'),
    'the token was checked with getMe',
  );
  t.false(run.stdout.includes(botToken) || run.stderr.includes(botToken), 'the token is never printed');
  t.false(run.stdout.includes(botToken.split(':')[1]!));
  t.regex(run.stdout, /Mini App: +https:\/\/coach\.example\/app\/anna\//);
  t.regex(run.stdout, /panel: +https:\/\/coach\.example\/panel\/anna\//);
  t.regex(run.stdout, /webhook: +https:\/\/coach\.example\/telegram\/webhook\/anna/);
  t.regex(run.stdout, /@coach_sandbox_bot/, 'the username came from getMe');
  t.regex(run.stderr, /shown only this once/);
  const secret = /bot API secret: (\S+)/.exec(run.stdout)?.[1];
  t.truthy(secret);

  const row = await tenantRow(t, 'anna');
  t.truthy(row);
  t.is(row!.id, /id: +(\S+)/.exec(run.stdout)?.[1] ?? '(no id printed)');
  t.is(row!.bot_id, '2000001');
  t.is(row!.bot_username, 'coach_sandbox_bot');
  t.false(row!.bot_token_sealed!.includes(botToken.split(':')[1]!), 'the token is not stored in the clear');
  t.is(
    createSecretBox([Buffer.from(KEY_1, 'hex')]).open(row!.bot_token_sealed!, `${row!.id}:bot_token`),
    botToken,
  );
  t.is(row!.bot_api_secret_digest, createHash('sha256').update(secret!).digest('hex'));
  t.false(JSON.stringify(row).includes(secret!), 'only the digest of the bot API secret is kept');

  // The secret is printed by create only: list does not show it again.
  const list = await runCli(t, `tenant:list --json`);
  t.false(list.stdout.includes(secret!));
});

test('tenant:create refuses a taken slug, a bot that is already a tenant and a token Telegram refuses (exit 2)', async (t) => {
  const botToken = KNOWN_TOKENS[1]!;
  t.is((await runCli(t, `tenant:create --slug ben --name Ben --bot-token ${botToken}`)).code, 0);

  const sameSlug = await runCli(t, `tenant:create --slug ben --name "Ben 2" --bot-token ${KNOWN_TOKENS[2]!}`);
  t.is(sameSlug.code, 2);
  t.regex(sameSlug.stderr, /A tenant "ben" exists already/);

  const sameBot = await runCli(t, `tenant:create --slug ben-two --name "Ben 2" --bot-token ${botToken}`);
  t.is(sameBot.code, 2);
  t.regex(sameBot.stderr, /This bot already belongs to tenant "ben"/);
  t.false(sameBot.stderr.includes(botToken));

  // The default tenant's bot lives in TELEGRAM_BOT_TOKEN, where no unique constraint sees it.
  const defaultBot = await runCli(
    t,
    `tenant:create --slug ben-three --name "Ben 3" --bot-token ${KNOWN_TOKENS[2]!}`,
    {
      env: { TELEGRAM_BOT_TOKEN: KNOWN_TOKENS[2]! },
    },
  );
  t.is(defaultBot.code, 2);
  t.regex(defaultBot.stderr, /This bot is the default tenant's/);
  t.is(await tenantRow(t, 'ben-three'), undefined);

  const refused = await runCli(t, `tenant:create --slug carl --name Carl --bot-token ${UNKNOWN_TOKEN}`);
  t.is(refused.code, 2);
  t.regex(refused.stderr, /Telegram refused this bot token/);
  t.false(refused.stderr.includes(UNKNOWN_TOKEN));
  t.is(await tenantRow(t, 'carl'), undefined);

  const badSlug = await runCli(
    t,
    `tenant:create --slug "Not A Slug" --name X --bot-token ${KNOWN_TOKENS[2]!}`,
  );
  t.is(badSlug.code, 2);
  t.regex(badSlug.stderr, /Invalid slug/);

  const noToken = await runCli(t, `tenant:create --slug dora --name Dora`);
  t.is(noToken.code, 2);
  t.regex(noToken.stderr, /--bot-token is required/);
});

test('tenant:create --no-check stores a token without asking Telegram', async (t) => {
  const run = await runCli(
    t,
    `tenant:create --slug offline --name Offline --bot-token ${UNKNOWN_TOKEN} --bot-username @offline_bot --no-check`,
  );
  t.is(run.code, 0, run.stderr);
  t.is((await tenantRow(t, 'offline'))!.bot_username, 'offline_bot');
});

test('tenant:list shows every tenant with its bot and budgets, default first, and no secrets', async (t) => {
  const created = await runCli(
    t,
    `tenant:create --slug listed --name "Listed Coach" --bot-token ${KNOWN_TOKENS[3]!} --ai-rpm 7 --plans-per-day 70`,
  );
  t.is(created.code, 0, created.stderr);
  const json = await runCli(t, `tenant:list --json`);
  t.is(json.code, 0, json.stderr);
  const tenants = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
  t.is(tenants[0]!.slug, 'default');
  const listed = tenants.find((tenant) => tenant.slug === 'listed')!;
  t.like(listed, {
    name: 'Listed Coach',
    botUsername: 'coach_sandbox_bot',
    botUsable: true,
    problem: null,
    aiRequestsPerMinute: 7,
    aiPlansPerDay: 70,
  });
  t.regex(String(listed.createdAt), /^\d{4}-\d\d-\d\dT/);
  t.false(json.stdout.includes(KNOWN_TOKENS[3]!));
  t.false(json.stdout.includes('v1.'), 'no sealed value either');

  const table = await runCli(t, `tenant:list`);
  t.is(table.code, 0);
  t.regex(table.stdout, /^SLUG +NAME +BOT +CREATED +BOT USABLE/m);
  t.regex(table.stdout, /^listed +Listed Coach +@coach_sandbox_bot +\d{4}-\d\d-\d\d +yes +7 +70$/m);
});

test('tenant:update rotates the bot token (another bot, still unique), renames and resets budgets', async (t) => {
  const [first, second] = [KNOWN_TOKENS[4]!, KNOWN_TOKENS[5]!];
  t.is((await runCli(t, `tenant:create --slug rota --name Rota --bot-token ${first} --ai-rpm 5`)).code, 0);
  const before = (await tenantRow(t, 'rota'))!;

  const rotated = await runCli(t, 'tenant:update --slug rota --bot-token - --name "Rota Gym"', {
    input: second,
  });
  t.is(rotated.code, 0, rotated.stderr);
  t.regex(rotated.stdout, /Updated tenant "rota": bot token, name/);
  t.false(rotated.stdout.includes(second) || rotated.stderr.includes(second));
  const after = (await tenantRow(t, 'rota'))!;
  t.is(after.bot_id, '2000006');
  t.is(after.name, 'Rota Gym');
  t.not(after.bot_token_sealed, before.bot_token_sealed);
  t.is(
    createSecretBox([Buffer.from(KEY_1, 'hex')]).open(after.bot_token_sealed!, `${after.id}:bot_token`),
    second,
  );

  const budgets = await runCli(t, `tenant:update --slug rota --ai-rpm default --plans-per-day 9`);
  t.is(budgets.code, 0, budgets.stderr);
  t.is((await tenantRow(t, 'rota'))!.ai_requests_per_minute, null);
  t.is((await tenantRow(t, 'rota'))!.ai_plans_per_day, 9);

  // Another tenant's bot cannot be taken over.
  t.is((await runCli(t, `tenant:create --slug other --name Other --bot-token ${first}`)).code, 0);
  const taken = await runCli(t, `tenant:update --slug rota --bot-token ${first}`);
  t.is(taken.code, 2);
  t.regex(taken.stderr, /already belongs to tenant "other"/);
  t.is((await tenantRow(t, 'rota'))!.bot_id, '2000006');

  const unknown = await runCli(t, `tenant:update --slug nobody --name X`);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /No tenant "nobody"/);
  const nothing = await runCli(t, `tenant:update --slug rota`);
  t.is(nothing.code, 2);
  t.regex(nothing.stderr, /nothing to change/);
});

test('admin:grant sets roles with the panel rules and audits them with the operator as actor', async (t) => {
  t.is((await runCli(t, `tenant:create --slug gym --name Gym --bot-token ${KNOWN_TOKENS[6]!}`)).code, 0);
  const tenantId = (await tenantRow(t, 'gym'))!.id!;

  const owner = await runCli(t, `admin:grant --tenant gym --telegram-id 424242 --role owner`);
  t.is(owner.code, 0, owner.stderr);
  t.regex(owner.stdout, /424242 is now owner \(was none\)/);
  const users = await t.context.sql.query(
    'select role from telegram_user where tenant_id = $1 and telegram_id = $2',
    [tenantId, '424242'],
  );
  t.is(users.rows[0]?.role, 'owner');
  const audit = await t.context.sql.query('select * from audit_log where tenant_id = $1', [tenantId]);
  t.is(audit.rows.length, 1);
  t.like(audit.rows[0], {
    actor_id: '00000000-0000-0000-0000-000000000000',
    action: 'admin.grant',
    details: { telegramId: '424242', from: null, to: 'owner' },
  });

  const lastOwner = await runCli(t, `admin:grant --tenant gym --telegram-id 424242 --role none`);
  t.is(lastOwner.code, 2);
  t.regex(lastOwner.stderr, /last owner cannot be removed/);

  const trainer = await runCli(t, `admin:grant --tenant gym --telegram-id 777 --role trainer`);
  t.is(trainer.code, 0);
  const revoked = await runCli(t, `admin:grant --tenant gym --telegram-id 777 --role none`);
  t.is(revoked.code, 0);
  t.regex(revoked.stdout, /777 is now none \(was trainer\)/);
  t.is(
    (await t.context.sql.query('select 1 from audit_log where tenant_id = $1', [tenantId])).rows.length,
    3,
  );

  // The grant is the tenant's own: the default tenant has no such admin.
  const elsewhere = await t.context.sql.query(
    "select 1 from telegram_user where telegram_id = '424242' and tenant_id <> $1",
    [tenantId],
  );
  t.is(elsewhere.rows.length, 0);

  const badRole = await runCli(t, `admin:grant --tenant gym --telegram-id 1 --role king`);
  t.is(badRole.code, 2);
  t.regex(badRole.stderr, /--role must be one of owner, trainer, support, none/);
  const badId = await runCli(t, `admin:grant --tenant gym --telegram-id abc --role owner`);
  t.is(badId.code, 2);
  const noTenant = await runCli(t, `admin:grant --tenant nope --telegram-id 1 --role owner`);
  t.is(noTenant.code, 2);
  t.regex(noTenant.stderr, /No tenant "nope"/);
});

test('tenant:remove shows what it would delete, then deletes the tenant and all its data only', async (t) => {
  t.is(
    (await runCli(t, `tenant:create --slug gone --name Gone --bot-token ${KNOWN_TOKENS[7]!} --no-check`))
      .code,
    0,
  );
  t.is(
    (await runCli(t, `tenant:create --slug stay --name Stay --bot-token ${token(2000099)} --no-check`)).code,
    0,
  );
  for (const slug of ['gone', 'stay']) {
    const grant = await runCli(t, `admin:grant --tenant ${slug} --telegram-id 5005 --role owner`);
    t.is(grant.code, 0, grant.stderr);
  }
  const gone = (await tenantRow(t, 'gone'))!.id!;
  const stay = (await tenantRow(t, 'stay'))!.id!;
  await t.context.sql.query(
    `insert into outbox (tenant_id, queue, job_name, job_id, payload, attempts, created_at)
     values ($1, 'notifications', 'x', 'cli-remove-test', '{}', 0, now())`,
    [gone],
  );

  const dryRun = await runCli(t, `tenant:remove --slug gone`);
  t.is(dryRun.code, 2);
  t.regex(dryRun.stdout, /Would delete tenant "gone"/);
  t.regex(dryRun.stdout, /^ +telegram_user +1$/m);
  t.regex(dryRun.stdout, /^ +audit_log +1$/m);
  t.regex(dryRun.stdout, /^ +outbox +1$/m);
  t.regex(dryRun.stderr, /Nothing was deleted/);
  t.truthy(await tenantRow(t, 'gone'), 'a dry run deletes nothing');
  t.is(await rowsOf(t, 'telegram_user', gone), 1);

  const removed = await runCli(t, `tenant:remove --slug gone --yes`);
  t.is(removed.code, 0, removed.stderr);
  t.regex(removed.stdout, /Deleted tenant "gone"/);
  t.is(await tenantRow(t, 'gone'), undefined);
  for (const table of ['telegram_user', 'audit_log', 'outbox']) t.is(await rowsOf(t, table, gone), 0);
  t.truthy(await tenantRow(t, 'stay'));
  t.is(await rowsOf(t, 'telegram_user', stay), 1, "the other tenant's data is untouched");
  t.is(await rowsOf(t, 'audit_log', stay), 1);

  const again = await runCli(t, `tenant:remove --slug gone --yes`);
  t.is(again.code, 2);
  t.regex(again.stderr, /No tenant "gone"/);
  for (const yes of [[], ['--yes']]) {
    const defaultTenant = await runCli(t, ['tenant:remove', '--slug', 'default', ...yes]);
    t.is(defaultTenant.code, 2);
    t.regex(defaultTenant.stderr, /default tenant cannot be removed/);
  }
  t.truthy(await tenantRow(t, 'default'));
});

test('key rotation: tenant:reseal moves every secret to the new key, is idempotent and keeps what it cannot open', async (t) => {
  // Its own database: resealing touches every tenant.
  const db = await createTestDatabase();
  t.teardown(() => db.drop());
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  t.teardown(() => sql.end());
  const inDb = { databaseUrl: db.url };
  const old = { ...inDb, env: { TENANT_SECRET_KEY: KEY_1 } };
  const rotating = { ...inDb, env: { TENANT_SECRET_KEY: KEY_2, TENANT_SECRET_KEY_PREVIOUS: KEY_1 } };
  const rotated = { ...inDb, env: { TENANT_SECRET_KEY: KEY_2 } };

  for (const [slug, botToken] of [
    ['one', KNOWN_TOKENS[0]!],
    ['two', KNOWN_TOKENS[1]!],
  ] as const) {
    t.is(
      (await runCli(t, `tenant:create --slug ${slug} --name ${slug} --bot-token ${botToken}`, old)).code,
      0,
    );
  }
  // Sealed with a key nobody configures below: reported, never destroyed.
  const lost = { ...inDb, env: { TENANT_SECRET_KEY: KEY_3 } };
  t.is(
    (await runCli(t, `tenant:create --slug lost --name lost --bot-token ${KNOWN_TOKENS[2]}`, lost)).code,
    0,
  );
  const lostBefore = (await sql.query("select bot_token_sealed from tenant where slug = 'lost'")).rows[0];

  const usable = async (options: typeof old) => {
    const list = await runCli(t, `tenant:list --json`, options);
    return Object.fromEntries(
      (JSON.parse(list.stdout) as Array<{ slug: string; botUsable: boolean }>).map((x) => [
        x.slug,
        x.botUsable,
      ]),
    );
  };
  t.like(await usable(rotated), { one: false, two: false }, 'the new key alone does not open the old values');
  t.like(await usable(rotating), { one: true, two: true }, 'with the old key as previous, everything works');

  const first = await runCli(t, `tenant:reseal`, rotating);
  t.is(first.code, 1, 'a value no key opens is a failure to look at');
  t.regex(first.stdout, /Resealed 4 secret\(s\) with key \w+; 0 already used it; 2 unreadable/);
  t.regex(first.stderr, /cannot open bot_token of tenant "lost"/);
  t.deepEqual(
    (await sql.query("select bot_token_sealed from tenant where slug = 'lost'")).rows[0],
    lostBefore,
  );

  const second = await runCli(t, `tenant:reseal`, rotating);
  t.regex(second.stdout, /Resealed 0 secret\(s\) with key \w+; 4 already used it; 2 unreadable/);

  // The old key can go now.
  t.like(await usable(rotated), { one: true, two: true, lost: false });
  const row = (await sql.query("select * from tenant where slug = 'one'")).rows[0];
  t.is(
    createSecretBox([Buffer.from(KEY_2, 'hex')]).open(row.bot_token_sealed, `${row.id}:bot_token`),
    KNOWN_TOKENS[0]!,
  );

  const noKey = await runCli(t, `tenant:reseal`, { ...inDb, env: { TENANT_SECRET_KEY: '' } });
  t.is(noKey.code, 1);
  t.regex(noKey.stderr, /^tenant:reseal: Cannot run: Invalid TENANT_SECRET_KEY: required/);
});
