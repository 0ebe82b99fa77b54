import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFakeTelegramBotApi } from '../../src/dev/fake-telegram-bot-api.ts';

/**
 * The fake Bot API in a process of its own, for measurements: its arrival timestamps then come
 * from an event loop that does nothing else. Prints `{"apiRoot", "controlUrl"}` as its first line;
 * GET <controlUrl>/state answers the recorded messages and the 429 count.
 */
const fake = await startFakeTelegramBotApi({ token: process.env.FAKE_TOKEN });
const control = createServer((req, res) => {
  if (req.url === '/state') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ rateLimitHits: fake.rateLimitHits, sentMessages: fake.sentMessages }));
    return;
  }
  res.statusCode = 404;
  res.end();
});
await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
const controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;
process.stdout.write(`${JSON.stringify({ apiRoot: fake.apiRoot, controlUrl })}\n`);
process.on('SIGTERM', async () => {
  control.close();
  await fake.close();
  process.exit(0);
});
