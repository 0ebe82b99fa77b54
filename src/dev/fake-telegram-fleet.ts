import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type FakeTelegramBotApi,
  type FakeTelegramBotApiOptions,
  startFakeTelegramBotApi,
} from './fake-telegram-bot-api.ts';

export interface FakeTelegramFleet {
  /** One TELEGRAM_API_ROOT for every bot, as api.telegram.org is. */
  readonly apiRoot: string;
  /** The fake Bot API of one token (its own limits, messages and failures). */
  bot(token: string): FakeTelegramBotApi;
  /** Adds a bot (a tenant created during a test). */
  addBot(token: string, options?: Omit<FakeTelegramBotApiOptions, 'token'>): Promise<FakeTelegramBotApi>;
  close(): Promise<void>;
}

/**
 * Several bots behind one address: each request goes, by the token in `/bot<token>/<method>`, to
 * that bot's own fake, so each bot has its own 30/s and per-chat limits, as on Telegram. A token
 * no bot has gets Telegram's 401.
 */
export async function startFakeTelegramFleet(bots: FakeTelegramBotApiOptions[]): Promise<FakeTelegramFleet> {
  const fakes = new Map<string, FakeTelegramBotApi>();
  const add = async (options: FakeTelegramBotApiOptions) => {
    const fake = await startFakeTelegramBotApi(options);
    fakes.set(fake.token, fake);
    return fake;
  };
  for (const options of bots) await add(options);

  const server = createServer((req, res) => {
    const token = /^\/bot([^/]+)\//.exec(req.url ?? '')?.[1];
    const target = token ? fakes.get(decodeURIComponent(token)) : undefined;
    if (!target) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: false, error_code: 401, description: 'Unauthorized' }));
      return;
    }
    const upstream = request(
      `${target.apiRoot}${req.url}`,
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.keepAliveTimeout = 1_000;
  const { port } = server.address() as AddressInfo;

  return {
    apiRoot: `http://127.0.0.1:${port}`,
    bot(token) {
      const fake = fakes.get(token);
      if (!fake) throw new Error('no fake bot with this token');
      return fake;
    },
    addBot: (token, options = {}) => add({ ...options, token }),
    async close() {
      server.closeAllConnections();
      await Promise.all([
        new Promise<void>((resolve) => server.close(() => resolve())),
        ...[...fakes.values()].map((fake) => fake.close()),
      ]);
    },
  };
}
