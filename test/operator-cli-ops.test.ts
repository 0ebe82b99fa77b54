import anyTest, { type TestFn } from 'ava';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { runProcess as run, runOperatorCli } from './helpers/cli-process.ts';
import { freePort } from './helpers/free-port.ts';
import {
  createTestDatabase,
  TEST_REDIS_URL,
  type TestDatabase,
  uniquePrefix,
} from './helpers/test-database.ts';
import { waitFor } from './helpers/wait-for.ts';

/**
 * The operator CLI's help, exit codes and operations commands (secrets, failed jobs, the outbox),
 * run as child processes the way an operator runs them.
 */

interface Context {
  db: TestDatabase;
  queuePrefix: string;
}
const test = anyTest as TestFn<Context>;

function runCli(t: { context: Context }, args: string[], env: Record<string, string> = {}) {
  return runOperatorCli(args, {
    DATABASE_URL: t.context.db.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: t.context.queuePrefix,
    ...env,
  });
}

test.before(async (t) => {
  t.context = { db: await createTestDatabase(), queuePrefix: uniquePrefix('cli') };
});

test.after.always(async (t) => {
  await t.context.db?.drop();
});

test('npm run cli -- --help lists every command; each command has its own help', async (t) => {
  const help = await run('npm', ['run', '-s', 'cli', '--', '--help'], {});
  t.is(help.code, 0, help.stderr);
  for (const command of [
    'tenant:create',
    'tenant:list',
    'tenant:update',
    'tenant:reseal',
    'tenant:remove',
    'admin:grant',
    'jobs:retry-failed',
    'outbox:status',
    'secret:generate',
  ]) {
    t.true(help.stdout.includes(`  ${command} `), command);
  }
  const create = await runCli(t, ['tenant:create', '--help']);
  t.is(create.code, 0);
  t.regex(create.stdout, /^Usage: npm run cli -- tenant:create --slug <slug>/);
  t.regex(create.stdout, /--bot-token <token\|->/);
  const short = await runCli(t, ['jobs:retry-failed', '-h']);
  t.is(short.code, 0);
  t.regex(short.stdout, /--queue <plans\|notifications\|metrics\|billing>/);
});

test('a wrong command line is one line on stderr and exit code 2', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['frobnicate'], /^Unknown command "frobnicate"\. Commands: tenant:create, .* \(see --help\)\n$/],
    [['tenant:list', '--colour'], /^tenant:list: Unknown option '--colour' \(see --help\)\n$/],
    [
      ['tenant:create', '--name', 'X', '--bot-token', '1:abc'],
      /^tenant:create: --slug is required \(see --help\)\n$/,
    ],
    [
      ['tenant:remove', '--slug'],
      /^tenant:remove: Option '--slug <value>' argument missing \(see --help\)\n$/,
    ],
    [
      ['secret:generate', '--bytes', 'lots'],
      /^secret:generate: --bytes must be a whole number from 16 to 1024, not "lots"/,
    ],
    [
      ['jobs:retry-failed', '--queue', 'emails'],
      /unknown queue "emails"; the queues are: plans, notifications, metrics, billing/,
    ],
  ];
  for (const [args, expected] of cases) {
    const result = await runCli(t, args);
    t.is(result.code, 2, args.join(' '));
    t.regex(result.stderr, expected);
    t.is(result.stderr.trim().split('\n').length, 1, 'one line');
    t.is(result.stdout, '');
  }
  const bare = await runCli(t, []);
  t.is(bare.code, 2, 'no command at all shows the help and exits 2');
  t.regex(bare.stdout, /^Usage: npm run cli -- <command>/);
});

test('secret:generate prints only the secret on stdout: 64 hex characters by default', async (t) => {
  const key = await run('npm', ['run', '-s', 'cli', '--', 'secret:generate', '--bytes', '32'], {});
  t.is(key.code, 0);
  t.regex(key.stdout, /^[0-9a-f]{64}\n$/);
  t.regex(key.stderr, /TENANT_SECRET_KEY/);
  const other = await runCli(t, ['secret:generate']);
  t.not(other.stdout, key.stdout, 'random each time');
  const short = await runCli(t, ['secret:generate', '--bytes', '16', '--format', 'base64url']);
  t.regex(short.stdout, /^[A-Za-z0-9_-]{22}\n$/);
  const bad = await runCli(t, ['secret:generate', '--format', 'base32']);
  t.is(bad.code, 2);
  // The old script stays as it was: a bot API secret, base64url.
  const legacy = await run('npm', ['run', '-s', 'secret:generate'], {});
  t.regex(legacy.stdout, /^[A-Za-z0-9_-]{43}\n$/);
});

test('jobs:retry-failed puts the failed jobs of a queue back to waiting', async (t) => {
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  t.teardown(() => connection.disconnect());
  const queue = new Queue('notifications', { connection, prefix: t.context.queuePrefix });
  t.teardown(() => queue.close());
  await queue.add('send-notification', { tenantId: 'x' }, { attempts: 1, jobId: 'one' });
  await queue.add('send-notification', { tenantId: 'x' }, { attempts: 1, jobId: 'two' });
  await queue.add('send-notification', { tenantId: 'x' }, { attempts: 1, jobId: 'three' });
  const workerConnection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  t.teardown(() => workerConnection.disconnect());
  const worker = new Worker(
    'notifications',
    async () => {
      throw new Error('Telegram was down');
    },
    { connection: workerConnection, prefix: t.context.queuePrefix },
  );
  await waitFor('three failed jobs', async () => (await queue.getFailedCount()) === 3);
  await worker.close();

  const limited = await runCli(t, ['jobs:retry-failed', '--queue', 'notifications', '--limit', '1']);
  t.is(limited.code, 0, limited.stderr);
  t.regex(limited.stdout, /Retried 1 failed job\(s\) of queue "notifications"; 2 still failed\./);
  const all = await runCli(t, ['jobs:retry-failed', '--queue', 'notifications']);
  t.regex(all.stdout, /Retried 2 failed job\(s\) of queue "notifications"; 0 still failed\./);
  t.is(await queue.getFailedCount(), 0);
  t.is(await queue.getWaitingCount(), 3, 'every job waits to run again');
  const none = await runCli(t, ['jobs:retry-failed', '--queue', 'plans']);
  t.regex(none.stdout, /Retried 0 failed job\(s\) of queue "plans"/);
});

test('outbox:status counts pending and parked rows and the age of the oldest', async (t) => {
  const sql = new pg.Client({ connectionString: t.context.db.url });
  await sql.connect();
  t.teardown(() => sql.end());
  await sql.query(
    `insert into outbox (tenant_id, queue, job_name, job_id, payload, attempts, created_at, parked_at)
     values ('00000000-0000-4000-8000-000000000001', 'plans', 'x', 'cli-a', '{}', 0, now() - interval '1 hour', null),
            ('00000000-0000-4000-8000-000000000001', 'plans', 'x', 'cli-b', '{}', 0, now(), null),
            ('00000000-0000-4000-8000-000000000001', 'plans', 'x', 'cli-c', '{}', 9, now(), now())`,
  );
  const json = await runCli(t, ['outbox:status', '--json']);
  t.is(json.code, 0, json.stderr);
  const status = JSON.parse(json.stdout);
  t.is(status.pending, 2);
  t.is(status.parked, 1);
  t.true(status.oldestAgeSeconds >= 3600);
  const text = await runCli(t, ['outbox:status']);
  t.regex(text.stdout, /^pending: 2\noldest pending: \d+ s\nparked: 1\n$/);
});

test('nothing reachable: one clear line and exit code 1', async (t) => {
  const database = await runCli(t, ['tenant:list'], {
    DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:1/coach',
  });
  t.is(database.code, 1);
  t.regex(
    database.stderr,
    /^tenant:list: Failed: Cannot reach PostgreSQL at 127\.0\.0\.1:1 \(DATABASE_URL\): .+\n$/,
  );
  t.false(database.stderr.includes('hunter2'), 'no password in the message');

  const noDatabase = await runCli(t, ['outbox:status'], { DATABASE_URL: '' });
  t.is(noDatabase.code, 1);
  t.regex(noDatabase.stderr, /^outbox:status: Cannot run: Invalid DATABASE_URL: required/);

  const redis = await runCli(t, ['jobs:retry-failed', '--queue', 'plans'], {
    REDIS_URL: 'redis://127.0.0.1:1',
  });
  t.is(redis.code, 1);
  t.regex(
    redis.stderr,
    /^jobs:retry-failed: Failed: Cannot reach Redis at 127\.0\.0\.1:1 \(REDIS_URL\): .+\n$/,
  );

  const closedPort = await freePort();
  const telegram = await runCli(
    t,
    ['tenant:create', '--slug', 'x', '--name', 'X', '--bot-token', '123:AAAAAAAAAAAAAAAAAAAAAAAA'],
    {
      TELEGRAM_API_ROOT: `http://127.0.0.1:${closedPort}`,
      TENANT_SECRET_KEY: 'ab'.repeat(32),
    },
  );
  t.is(telegram.code, 1);
  t.regex(
    telegram.stderr,
    new RegExp(
      `^tenant:create: Failed: Cannot reach the Telegram Bot API at 127\\.0\\.0\\.1:${closedPort} to check the token: ECONNREFUSED\n$`,
    ),
  );
  t.false(telegram.stderr.includes('AAAAAAAA'));
});
