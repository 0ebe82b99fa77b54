import test from 'ava';
import { Notification, TelegramUser } from '../src/db/entities/index.ts';
import { authHeader, type TestUser, validAnswers } from './helpers/init-data.ts';
import { seedUsers } from './helpers/seed.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

/**
 * "New application" alerts: every admin who may see applications gets one bot message per new
 * application, in their language, through the real worker and the fake Telegram Bot API, unless
 * they turned it off, cannot be reached, or are the applicant.
 */
const OWNER = 9_100_001;
const TRAINER = 9_100_002;
const SUPPORT = 9_100_003;
const CONFIGURED = 9_100_004;
const QUIET = 9_100_005;
const BLOCKED = 9_100_006;
const ALL_ADMINS = [OWNER, TRAINER, SUPPORT, CONFIGURED, QUIET, BLOCKED];

let system: TestSystem;
test.before(async () => {
  system = await startTestSystem({ env: { TELEGRAM_ADMINS: String(CONFIGURED) } });
  const em = system.em();
  await seedUsers(em, [OWNER], { role: 'owner', languageCode: 'ru' });
  await seedUsers(em, [TRAINER], { role: 'trainer', languageCode: 'en' });
  await seedUsers(em, [SUPPORT], { role: 'support', languageCode: 'ru' });
  await seedUsers(em, [QUIET], { role: 'trainer', languageCode: 'en' });
  await seedUsers(em, [BLOCKED], { role: 'support', languageCode: 'en', unreachableAt: new Date() });
});
test.after.always(async () => {
  await system?.stop();
});

const prefs = (auth: string, body?: unknown) =>
  system.request('/api/panel/me/preferences', {
    auth,
    ...(body === undefined ? {} : { method: 'PUT', body: JSON.stringify(body) }),
  });

async function submit(user: TestUser): Promise<string> {
  const response = await system.request('/api/surveys', {
    method: 'POST',
    auth: authHeader(user),
    body: JSON.stringify({ answers: validAnswers }),
  });
  if (response.status !== 202) throw new Error(`survey: ${response.status} ${await response.text()}`);
  return (await response.json()).applicationId;
}

/** The alerts stored for one application (written with it), once all of them are settled as sent. */
async function sentAlerts(applicationId: string) {
  const rows = await system.em().find(Notification, {
    kind: 'new_application',
    dedupeKey: { $like: `new_application:${applicationId}:%` },
  });
  await waitFor('alerts sent', async () => {
    const statuses = await system
      .em()
      .find(Notification, { id: { $in: rows.map((row) => row.id) } }, { fields: ['status'] });
    return statuses.every((row) => row.status === 'sent');
  });
  return rows;
}

/** "New application" messages each admin chat got about `applicant`. */
function messagesAbout(applicant: string) {
  const alert = (text: string) =>
    /^(New application from|Новая заявка от) /.test(text) && text.includes(` ${applicant} `);
  return Object.fromEntries(
    ALL_ADMINS.map((id) => [
      id,
      system.telegram.sentMessages.filter((m) => m.chatId === String(id) && alert(m.text)),
    ]),
  );
}

test.serial(
  'the configured owner is an owner row and sets their language by opening the panel',
  async (t) => {
    const row = await system.em().findOneOrFail(TelegramUser, { telegramId: String(CONFIGURED) });
    t.is(row.role, 'owner');
    t.true(row.roleFromConfig);
    const response = await prefs(authHeader({ id: CONFIGURED, first_name: 'Carl', language_code: 'ru' }));
    t.is(response.status, 200);
    t.deepEqual(await response.json(), { notifyNewApplications: true });
  },
);

test.serial('an admin turns the alerts off with PUT; GET shows it; only their row changes', async (t) => {
  const quiet = authHeader({ id: QUIET, language_code: 'en' });
  t.deepEqual(await (await prefs(quiet)).json(), { notifyNewApplications: true });
  const put = await prefs(quiet, { notifyNewApplications: false });
  t.is(put.status, 200);
  t.deepEqual(await put.json(), { notifyNewApplications: false });
  t.deepEqual(await (await prefs(quiet)).json(), { notifyNewApplications: false });
  const off = await system.em().find(TelegramUser, { notifyNewApplications: false });
  t.deepEqual(
    off.map((user) => user.telegramId),
    [String(QUIET)],
  );
});

test.serial('bad preference bodies are 400; a non-admin gets 403 on both routes', async (t) => {
  const quiet = authHeader({ id: QUIET, language_code: 'en' });
  for (const body of [{}, { notifyNewApplications: 'no' }, { notifyNewApplications: true, extra: 1 }, null]) {
    t.is((await prefs(quiet, body)).status, 400, JSON.stringify(body));
  }
  const client = authHeader({ id: 9_100_099 });
  for (const response of [await prefs(client), await prefs(client, { notifyNewApplications: false })]) {
    t.is(response.status, 403);
    t.is((await response.json()).error.code, 'not_an_admin');
  }
  t.is((await prefs('')).status, 401);
  const user = await system.em().findOneOrFail(TelegramUser, { telegramId: '9100099' });
  t.true(user.notifyNewApplications, 'the refused PUT changed nothing');
});

test.serial(
  "a client's survey: each admin gets exactly one message in their language; not the quiet or unreachable one",
  async (t) => {
    const applicationId = await submit({
      id: 9_100_100,
      first_name: 'Anna',
      username: 'anna_fit',
      language_code: 'en',
    });
    const rows = await sentAlerts(applicationId);
    const admins = await system.em().find(TelegramUser, { id: { $in: rows.map((row) => row.userId) } });
    t.deepEqual(
      admins.map((admin) => Number(admin.telegramId)).sort(),
      [OWNER, TRAINER, SUPPORT, CONFIGURED].sort(),
    );
    for (const row of rows) t.is(row.button, null, 'no button: there is no panel page to open yet');

    const got = messagesAbout('Anna @anna_fit');
    t.deepEqual(
      ALL_ADMINS.map((id) => got[id]!.length),
      [1, 1, 1, 1, 0, 0],
      'owner, trainer, support, configured owner: one each; quiet and blocked: none',
    );
    t.is(
      got[TRAINER]![0]!.text,
      'New application from Anna @anna_fit (goal: build muscle).\nOpen the panel to review it.',
    );
    for (const id of [OWNER, SUPPORT, CONFIGURED]) {
      t.is(
        got[id]![0]!.text,
        'Новая заявка от Anna @anna_fit (цель: набрать мышечную массу).\nОткройте панель, чтобы посмотреть её.',
        `admin ${id} reads Russian`,
      );
      t.is(got[id]![0]!.replyMarkup, undefined);
    }
    t.false(
      system.telegram.sentMessages.some((m) => m.chatId === '9100100' && m.text.includes('New application')),
      'the applicant is not told of their own application',
    );
  },
);

test.serial('an admin who applies gets no alert of their own application; the others do', async (t) => {
  const applicationId = await submit({ id: TRAINER, first_name: 'Tess', language_code: 'en' });
  const rows = await sentAlerts(applicationId);
  const admins = await system.em().find(TelegramUser, { id: { $in: rows.map((row) => row.userId) } });
  t.deepEqual(admins.map((admin) => Number(admin.telegramId)).sort(), [OWNER, SUPPORT, CONFIGURED].sort());
  const got = messagesAbout('Tess');
  t.deepEqual(
    ALL_ADMINS.map((id) => got[id]!.length),
    [1, 0, 1, 1, 0, 0],
    'owner, support, configured owner; not Tess herself',
  );
  t.false(
    system.telegram.sentMessages.some((m) => m.chatId === String(TRAINER) && m.text.includes('Tess ')),
    'nothing about her own application reached Tess',
  );
});

test.serial('turned back on, the alerts come again; an applicant without a username', async (t) => {
  const quiet = authHeader({ id: QUIET, language_code: 'en' });
  t.deepEqual(await (await prefs(quiet, { notifyNewApplications: true })).json(), {
    notifyNewApplications: true,
  });
  const applicationId = await submit({ id: 9_100_101, first_name: 'Boris', language_code: 'ru' });
  const rows = await sentAlerts(applicationId);
  t.is(rows.length, 5, 'owner, trainer, support, configured owner and the quiet trainer again');
  const got = messagesAbout('Boris');
  t.deepEqual(
    ALL_ADMINS.map((id) => got[id]!.length),
    [1, 1, 1, 1, 1, 0],
  );
  t.regex(got[QUIET]![0]!.text, /^New application from Boris \(goal: build muscle\)\./);
  // One cause, one message: the dedupe key names the application and the admin.
  t.is(new Set(rows.map((row) => row.dedupeKey)).size, rows.length);
});

test.serial('a TELEGRAM_ADMINS owner is alerted even when their row lost the owner role', async (t) => {
  // As if storing TELEGRAM_ADMINS at boot had failed: effectiveRole still makes them an owner.
  const em = system.em();
  await em.nativeUpdate(TelegramUser, { telegramId: String(CONFIGURED) }, { role: null });
  t.teardown(() => em.nativeUpdate(TelegramUser, { telegramId: String(CONFIGURED) }, { role: 'owner' }));
  const applicationId = await submit({ id: 9_100_102, first_name: 'Vera', language_code: 'en' });
  await sentAlerts(applicationId);
  t.is(messagesAbout('Vera')[CONFIGURED]!.length, 1);
});
