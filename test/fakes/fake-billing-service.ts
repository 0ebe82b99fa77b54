import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A real local HTTP server implementing the external billing service's contract
 * (src/billing/http-billing-provider.ts): `POST /subscriptions/batch` with a bearer key. Tests set
 * what it knows per Telegram id and make it slow, down or wrong; it counts every call and the size
 * of every batch.
 */

export interface FakeRemoteSubscription {
  planTitle: string;
  status: 'active' | 'cancelled' | 'expired' | 'refunded';
  /** ISO 8601 or null. */
  currentPeriodEnd: string | null;
  renews: boolean;
  price: number;
  currency: string;
}

export type FakeBillingFault =
  | { kind: 'slow'; ms: number }
  | { kind: 'down'; how: 'status' | 'close' }
  | { kind: 'wrong'; how: 'json' | 'shape' };

export interface FakeBillingService {
  /** BILLING_URL, no trailing slash. */
  readonly url: string;
  /** BILLING_API_KEY the service accepts. */
  readonly apiKey: string;
  /** Requests that reached the batch endpoint with the right key (including failed ones). */
  readonly calls: number;
  /** userIds per accepted request, in order. */
  readonly batchSizes: number[];
  /** Every Telegram id asked about, in order (duplicates across calls included). */
  readonly askedIds: string[];
  readonly unauthorized: number;
  /** What the service knows about this user; null forgets it. */
  set(telegramId: string | number, subscription: Partial<FakeRemoteSubscription> | null): void;
  /** Every answer waits this long first (0: back to normal). */
  slow(ms: number): void;
  /** 503 for every request, or (how 'close') the socket destroyed without an answer. */
  down(how?: 'status' | 'close'): void;
  /** Invalid JSON, or valid JSON of the wrong shape. */
  wrong(how?: 'json' | 'shape'): void;
  /** No fault any more. */
  healthy(): void;
  close(): Promise<void>;
}

export function subscriptionDefaults(
  overrides: Partial<FakeRemoteSubscription> = {},
): FakeRemoteSubscription {
  return {
    planTitle: 'Coaching (external)',
    status: 'active',
    currentPeriodEnd: new Date(Date.now() + 20 * 86_400_000).toISOString(),
    renews: true,
    price: 1990,
    currency: 'EUR',
    ...overrides,
  };
}

export async function startFakeBillingService(
  apiKey = 'billing-test-key-0123456789',
): Promise<FakeBillingService> {
  const known = new Map<string, FakeRemoteSubscription>();
  const sockets = new Set<Socket>();
  const batchSizes: number[] = [];
  const askedIds: string[] = [];
  let fault: FakeBillingFault | undefined;
  let calls = 0;
  let unauthorized = 0;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    if (request.method !== 'POST' || request.url !== '/subscriptions/batch') {
      return send(response, 404, { error: 'not_found' });
    }
    if (request.headers.authorization !== `Bearer ${apiKey}`) {
      unauthorized++;
      return send(response, 401, { error: 'unauthorized' });
    }
    calls++;
    let userIds: unknown;
    try {
      userIds = (JSON.parse(body) as { userIds?: unknown }).userIds;
    } catch {
      return send(response, 400, { error: 'invalid_json' });
    }
    if (!Array.isArray(userIds) || !userIds.every((id) => typeof id === 'string')) {
      return send(response, 400, { error: 'userIds must be an array of strings' });
    }
    batchSizes.push(userIds.length);
    askedIds.push(...userIds);
    const current = fault;
    if (current?.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, current.ms));
    if (current?.kind === 'down') {
      if (current.how === 'close') return void request.socket.destroy();
      return send(response, 503, { error: 'maintenance' });
    }
    if (current?.kind === 'wrong') {
      if (current.how === 'json') {
        response.writeHead(200, { 'content-type': 'application/json' });
        return void response.end('{"subscriptions": [');
      }
      return send(response, 200, {
        subscriptions: userIds.map((userId) => ({ userId: Number(userId), state: 'paid' })),
      });
    }
    const subscriptions = userIds.flatMap((userId) => {
      const item = known.get(userId);
      return item ? [{ userId, ...item }] : [];
    });
    send(response, 200, { subscriptions });
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) send(response, 500, { error: 'fake failed' });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    get calls() {
      return calls;
    },
    batchSizes,
    askedIds,
    get unauthorized() {
      return unauthorized;
    },
    set(telegramId, subscription) {
      if (subscription === null) known.delete(String(telegramId));
      else known.set(String(telegramId), subscriptionDefaults(subscription));
    },
    slow: (ms) => {
      fault = ms > 0 ? { kind: 'slow', ms } : undefined;
    },
    down: (how = 'status') => {
      fault = { kind: 'down', how };
    },
    wrong: (how = 'shape') => {
      fault = { kind: 'wrong', how };
    },
    healthy: () => {
      fault = undefined;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
