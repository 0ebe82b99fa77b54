import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import test from 'ava';
import Koa from 'koa';
import { requestOrigin } from '../src/http/panel-session-auth.ts';
import { verifyLoginWidget } from '../src/security/login-widget.ts';
import { TEST_BOT_TOKEN } from './helpers/init-data.ts';
import { signLoginWidget } from './helpers/login-widget.ts';

test('verifyLoginWidget follows Telegram: SHA-256 of the token as key, fields sorted, hash left out', (t) => {
  // Built by hand from the documented recipe, independent of signLoginWidget.
  const fields = { id: '42', first_name: 'Ann', auth_date: String(Math.floor(Date.now() / 1000)) };
  const checkString = `auth_date=${fields.auth_date}\nfirst_name=Ann\nid=42`;
  const key = createHash('sha256').update(TEST_BOT_TOKEN).digest();
  const hash = createHmac('sha256', key).update(checkString).digest('hex');
  const verified = verifyLoginWidget({ ...fields, hash }, { botToken: TEST_BOT_TOKEN, maxAgeSeconds: 60 });
  t.like(verified.user, { id: '42', firstName: 'Ann', lastName: null, username: null });
  t.deepEqual(signLoginWidget(TEST_BOT_TOKEN, fields).hash, hash);
});

test('requestOrigin (the socket upgrade) computes the origin as Koa does', (t) => {
  const cases: [boolean, Record<string, string>][] = [
    [false, { host: 'coach.example' }],
    [false, { host: 'coach.example:8080', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' }],
    [true, { host: 'internal:3000', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'coach.example' }],
    [true, { host: 'internal:3000', 'x-forwarded-proto': 'https, http' }],
    [true, { host: 'coach.example' }],
  ];
  for (const [proxy, headers] of cases) {
    const req = { headers, socket: {}, httpVersionMajor: 1 } as unknown as IncomingMessage;
    const koa = new Koa({ proxy }).createContext(req, {} as never);
    t.is(requestOrigin(req, proxy), `${koa.protocol}://${koa.host}`, JSON.stringify(headers));
  }
});
