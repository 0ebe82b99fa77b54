import type { IncomingMessage, ServerResponse } from 'node:http';

// How the fake Bot API speaks HTTP: the request bodies it reads and the answers it gives, like the
// real one, and the updates it sends to the bot (webhook or getUpdates), also like the real one.

export type Params = Record<string, unknown>;

export interface Reply {
  status: number;
  body: unknown;
}

export const ok = (result: unknown): Reply => ({ status: 200, body: { ok: true, result } });
export const fail = (status: number, description: string, parameters?: object): Reply => ({
  status,
  body: { ok: false, error_code: status, description, ...(parameters ? { parameters } : {}) },
});

/** The Bot API's reading of a boolean parameter: JSON true, or "true" / "1" / "yes" in a form body. */
export function toBool(raw: unknown): boolean {
  const value = String(raw ?? '').trim();
  return ['true', '1', 'yes'].includes(value.toLowerCase());
}

/** An integer parameter as the Bot API reads it: absent means the default, junk means 0, then clamped. */
export function clampInt(raw: unknown, fallback: number, min: number, max: number): number {
  const value = raw === undefined || raw === null || raw === '' ? fallback : Math.trunc(Number(raw)) || 0;
  return Math.min(Math.max(value, min), max);
}

const MAX_BODY_BYTES = 1024 * 1024;

/** Accepts the markup as an object (JSON body) or a JSON string (form bodies), like Telegram does. */
export function parseMarkup(raw: unknown): unknown {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const markup = typeof raw === 'string' ? parseJson(raw) : raw;
  if (typeof markup !== 'object' || markup === null) {
    return new Error("can't parse reply keyboard markup JSON object");
  }
  const rows = (markup as { inline_keyboard?: unknown }).inline_keyboard;
  for (const row of Array.isArray(rows) ? rows : []) {
    for (const button of Array.isArray(row) ? row : []) {
      const webAppUrl = (button as { web_app?: { url?: unknown } } | null)?.web_app?.url;
      if (webAppUrl !== undefined && !String(webAppUrl).startsWith('https://')) {
        return new Error(
          `inline keyboard button Web App URL '${String(webAppUrl)}' is invalid: Only HTTPS links are allowed`,
        );
      }
    }
  }
  return markup;
}

/** Reads the body as Telegram does: JSON, urlencoded or multipart. Returns an Error for bodies it rejects. */
export async function readParams(req: IncomingMessage): Promise<Params | Error> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk); // keep draining so the answer can still be sent
  }
  if (size > MAX_BODY_BYTES) return new Error('request entity too large');
  const raw = Buffer.concat(chunks);
  if (raw.length === 0) return {};
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
  }
  if (type.startsWith('multipart/form-data')) {
    const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(req.headers['content-type'] ?? '');
    const value = boundary?.[1] ?? boundary?.[2];
    return value ? parseMultipart(raw, value) : new Error('multipart boundary is missing');
  }
  const parsed = parseJson(raw.toString('utf8'));
  const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  return isObject ? (parsed as Params) : new Error("can't parse JSON object");
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Enough multipart for Bot API calls: text fields as strings, files as a name/size summary. */
function parseMultipart(raw: Buffer, boundary: string): Params {
  const fields: Params = {};
  // latin1 maps bytes 1:1, so splitting cannot corrupt multi-byte UTF-8 inside a part.
  for (const section of raw.toString('latin1').split(`--${boundary}`).slice(1)) {
    if (section.startsWith('--')) break;
    const headerEnd = section.indexOf('\r\n\r\n');
    if (headerEnd < 0) continue;
    const headers = section.slice(0, headerEnd);
    const name = /(?:^|;)\s*name="([^"]*)"/im.exec(headers)?.[1];
    if (!name) continue;
    const body = section.slice(headerEnd + 4).replace(/\r\n$/, '');
    const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
    fields[name] =
      filename === undefined ? Buffer.from(body, 'latin1').toString('utf8') : { filename, size: body.length };
  }
  return fields;
}

/** An update as Telegram sends it: update_id plus one field naming its kind (message, ...). */
export type BotUpdate = { update_id: number } & Record<string, unknown>;

/** status: the webhook's HTTP status, or 'network_error' when no answer came (refused, reset, timeout). */
export type FakeDelivery = { updateId: number; status: number | 'network_error'; at: number };

export interface UpdateOutbox {
  readonly deliveries: FakeDelivery[];
  /** Gives the fields the next update_id without sending them: a lost update, or one sent later. */
  number(fields: Record<string, unknown>): BotUpdate;
  /** Queues an update for the bot, in order behind the ones still pending. */
  send(update: BotUpdate): void;
  /** Overrides setWebhook's URL (tests cannot serve the public one); the secret defaults to setWebhook's. */
  deliverTo(url: string, secretToken?: string): void;
  /** setWebhook, deleteWebhook and getWebhookInfo; undefined for any other method. */
  handle(method: string, params: Params): Reply | undefined;
  getUpdates(params: Params, res: ServerResponse): Promise<Reply>;
  /** Resolves once every queued update has been accepted (webhook 2xx, or confirmed by a getUpdates offset). */
  idle(): Promise<void>;
  close(): void;
}

type Target = { url: string; secretToken?: string };

/** handedOut: given to a getUpdates call; late: sent after a newer update (redelivery, out of order). */
type Queued = { update: BotUpdate; handedOut: boolean; late: boolean };

const WEBHOOK_TIMEOUT_MS = 10_000;
const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 1_000;
/** Long polls are capped so the sandbox stays responsive to shutdown without letting a poller spin. */
const MAX_POLL_SECONDS = 1;

export function createUpdateOutbox(record: <T>(list: T[], item: T) => void): UpdateOutbox {
  const queue: Queued[] = [];
  const deliveries: FakeDelivery[] = [];
  const wakers = new Set<() => void>(); // long polls and retry pauses waiting for news
  const idleWaiters = new Set<() => void>();
  const aborter = new AbortController();
  let nextUpdateId = 1;
  let highestSent = 0;
  let allowedUpdates: string[] = []; // empty: Telegram's default, which includes every kind sent here
  let webhook: Target | undefined;
  let override: Target | undefined;
  let pumping = false;

  const target = (): Target | undefined =>
    override ? { url: override.url, secretToken: override.secretToken ?? webhook?.secretToken } : webhook;
  const wake = () => {
    for (const waker of wakers) waker();
  };
  /** News for the waiting: a long poll answers, a webhook retry goes now, the pump starts. */
  const kick = () => {
    wake();
    void pump();
  };
  const settle = () => {
    if (queue.length > 0 && !aborter.signal.aborted) return;
    for (const resolve of idleWaiters) resolve();
    idleWaiters.clear();
  };

  /** Resolves after ms, early when woken (new update, new target) or closed. */
  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakers.add(done);
      if (aborter.signal.aborted) done();
    });
  }

  async function post(to: Target, update: BotUpdate): Promise<number | 'network_error'> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (to.secretToken) headers['x-telegram-bot-api-secret-token'] = to.secretToken;
    try {
      const res = await fetch(to.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(update),
        redirect: 'manual', // Telegram does not follow redirects: a 3xx is a failed delivery
        signal: AbortSignal.any([aborter.signal, AbortSignal.timeout(WEBHOOK_TIMEOUT_MS)]),
      });
      await res.arrayBuffer().catch(() => undefined); // drain, so the connection can be reused
      return res.status;
    } catch {
      return 'network_error';
    }
  }

  /** Webhook delivery: one update at a time, in order; a refused one is retried, like Telegram does. */
  async function pump(): Promise<void> {
    if (pumping) return;
    pumping = true;
    let retryMs = FIRST_RETRY_MS;
    try {
      for (let to = target(); to && queue.length > 0 && !aborter.signal.aborted; to = target()) {
        const head = queue[0]!;
        const status = await post(to, head.update);
        if (aborter.signal.aborted) return;
        record(deliveries, { updateId: head.update.update_id, status, at: Date.now() });
        if (typeof status === 'number' && status >= 200 && status < 300) {
          const index = queue.indexOf(head); // a drop_pending_updates may have emptied it meanwhile
          if (index >= 0) queue.splice(index, 1);
          retryMs = FIRST_RETRY_MS;
          settle();
        } else {
          await pause(retryMs);
          retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
        }
      }
    } finally {
      pumping = false;
    }
  }

  /** getUpdates' offset: every update below it is confirmed and forgotten; negative keeps the last -offset. */
  function confirm(offset: number): void {
    if (offset < 0) queue.splice(0, Math.max(0, queue.length + offset));
    for (let i = queue.length - 1; i >= 0 && offset > 0; i--) {
      const entry = queue[i]!;
      // A late update (sent after newer ones) is below the bot's offset from the start: it must be
      // handed out before an offset can confirm it, or it would never reach the bot.
      if (entry.update.update_id < offset && (entry.handedOut || !entry.late)) queue.splice(i, 1);
    }
    settle();
  }

  function takeBatch(limit: number): BotUpdate[] {
    const batch = queue.slice(0, limit);
    for (const entry of batch) entry.handedOut = true;
    return batch.map((entry) => entry.update);
  }

  async function getUpdates(params: Params, res: ServerResponse): Promise<Reply> {
    if (webhook) {
      const hint = 'use deleteWebhook to delete the webhook first';
      return fail(409, `Conflict: can't use getUpdates method while webhook is active; ${hint}`);
    }
    allow(params.allowed_updates);
    confirm(clampInt(params.offset, 0, -(2 ** 31), 2 ** 31)); // absent: 0, which confirms nothing
    // Long polling: wait like Telegram while there is nothing, but answer as soon as something comes.
    // With deliverUpdatesTo the updates go to that URL, and a poller only waits.
    if (queue.length === 0 || override) await pause(clampInt(params.timeout, 0, 0, MAX_POLL_SECONDS) * 1000);
    return ok(override || res.destroyed ? [] : takeBatch(clampInt(params.limit, 100, 1, 100)));
  }

  /** allowed_updates: kept until a setWebhook or getUpdates gives a new list, like Telegram. */
  function allow(raw: unknown): void {
    const list = typeof raw === 'string' ? parseJson(raw) : raw;
    if (Array.isArray(list)) allowedUpdates = list.map(String);
  }

  function setWebhook(params: Params): Reply {
    allow(params.allowed_updates);
    if (toBool(params.drop_pending_updates)) queue.length = 0;
    const url = String(params.url ?? '');
    const secretToken = params.secret_token ? String(params.secret_token) : undefined;
    webhook = url ? { url, secretToken } : undefined; // an empty URL removes the webhook
    kick();
    settle();
    return ok(true);
  }

  return {
    deliveries,
    // Through JSON, so the object a test holds equals what the bot receives (no undefined fields).
    number: (fields) => JSON.parse(JSON.stringify({ update_id: nextUpdateId++, ...fields })),
    send(update) {
      // Telegram drops the kinds of update the bot did not ask for (allowed_updates).
      const kind = Object.keys(update).find((key) => key !== 'update_id') ?? '';
      if (allowedUpdates.length > 0 && !allowedUpdates.includes(kind)) return;
      queue.push({ update, handedOut: false, late: update.update_id < highestSent });
      highestSent = Math.max(highestSent, update.update_id);
      kick();
    },
    deliverTo(url, secretToken) {
      override = { url, secretToken };
      kick();
    },
    handle(method, params) {
      if (method === 'setwebhook') return setWebhook(params);
      if (method === 'deletewebhook') return setWebhook({ ...params, url: '' });
      if (method !== 'getwebhookinfo') return undefined;
      const url = webhook?.url ?? '';
      return ok({ url, has_custom_certificate: false, pending_update_count: queue.length });
    },
    getUpdates,
    idle: () =>
      new Promise<void>((resolve) => {
        idleWaiters.add(resolve);
        settle();
      }),
    close() {
      aborter.abort();
      wake();
      settle();
    },
  };
}
