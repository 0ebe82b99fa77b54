import { Writable } from 'node:stream';
import test from 'ava';
import { createLogger } from '../src/config/logger.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createLogger('debug', stream) };
}

test('credentials are censored wherever a careless log call puts them', (t) => {
  const { lines, logger } = capture();
  const secrets = {
    authorization: 'tma auth_date=1&hash=deadbeef',
    botToken: '123456:AAsecret-bot-token-value',
    initData: 'query_id=AA&user=%7B%7D&hash=cafe',
    apiKey: 'sk-live-123',
    secret: 'bot-api-secret-xyz',
    token: 'metrics-token-abc',
  };
  logger.info(secrets, 'top level');
  logger.info(
    { req: { headers: { authorization: secrets.authorization, 'x-bot-api-secret': secrets.secret } } },
    'request',
  );
  logger.info({ headers: { 'x-telegram-bot-api-secret-token': 'whsec-123' } }, 'webhook');
  logger.info({ config: { botToken: secrets.botToken, apiKey: secrets.apiKey } }, 'nested');
  const output = lines.join('\n');
  for (const value of [...Object.values(secrets), 'whsec-123']) t.false(output.includes(value), value);
  t.true(output.includes('[redacted]'));
  // Structured JSON lines with stable event names stay readable.
  logger.info({ event: 'plan_generated', planId: 'p1' }, 'plan ready');
  t.like(JSON.parse(lines.at(-1)!), { event: 'plan_generated', planId: 'p1', msg: 'plan ready', level: 30 });
});
