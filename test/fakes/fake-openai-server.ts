import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PlanContent } from '../../src/ai/plan-content.ts';

/**
 * A real HTTP server that speaks just enough of the OpenAI Chat Completions API for the real SDK to
 * talk to it. Point the SDK at `baseUrl` (`http://127.0.0.1:PORT/v1`); POST /v1/chat/completions and
 * POST /chat/completions are both answered, so a baseURL without /v1 works too.
 */
export type FakeOpenAiBehaviour =
  | { kind: 'ok'; content?: PlanContent }
  /** 429 rate_limit_exceeded; `retry-after` (seconds) and, if given, `retry-after-ms`. */
  | { kind: 'rate_limited'; retryAfterSeconds?: number; retryAfterMs?: number }
  /** 429 insufficient_quota: OpenAI's "billing exhausted", which waiting does not fix. */
  | { kind: 'quota_exceeded' }
  | { kind: 'server_error'; status?: number }
  /** Waits delayMs, then behaves like `then` (default ok); silently gives up if the client left. */
  | { kind: 'slow'; delayMs: number; andThen?: FakeOpenAiBehaviour }
  /** 200 whose message content is truncated JSON. */
  | { kind: 'malformed_json' }
  /** 200 whose message content is valid JSON of the wrong shape. */
  | { kind: 'schema_mismatch' }
  /** 200 with a JSON content type but a body that is not JSON at all. */
  | { kind: 'garbage_body' }
  /** 401 invalid_api_key; echoes the whole key (worse than OpenAI, which masks it) to test redaction. */
  | { kind: 'unauthorized' }
  /** 200 with message.refusal set and content null. */
  | { kind: 'refusal' }
  /** 200 with finish_reason "length" and a cut-off content. */
  | { kind: 'truncated' }
  /** 200 with finish_reason "content_filter". */
  | { kind: 'content_filter' };

export interface FakeOpenAiRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body, or the raw text if it was not JSON. */
  body: unknown;
}

export interface FakeOpenAi {
  /** `http://127.0.0.1:PORT/v1`, ready to pass as the SDK's baseURL. */
  readonly baseUrl: string;
  /** Every chat completion request received, in order; use its length to count SDK attempts. */
  readonly requests: FakeOpenAiRequest[];
  /** Scripts the next replies, one behaviour per request, in order. */
  enqueue(...behaviours: FakeOpenAiBehaviour[]): void;
  /** Behaviour once the queue is empty (initially `{ kind: 'ok' }`). */
  setDefault(behaviour: FakeOpenAiBehaviour): void;
  /** Stops listening, destroys open sockets and cancels pending slow replies. */
  close(): Promise<void>;
}

/** The plan `ok` replies with unless given one; small, and valid under planContentSchema. */
export const FAKE_PLAN: PlanContent = {
  summary: 'Three full-body sessions a week to build a base of strength.',
  weeks: [
    {
      week: 1,
      focus: 'Learn the movements',
      days: [
        {
          day: 1,
          title: 'Full body A',
          durationMinutes: 45,
          warmup: '5 min brisk walk, joint circles',
          exercises: [
            { name: 'Goblet squat', sets: 3, reps: '8-10', restSeconds: 90, notes: null },
            { name: 'Push-up', sets: 3, reps: '6-10', restSeconds: 90, notes: 'Knees down if needed' },
          ],
          cooldown: '5 min stretching',
        },
      ],
    },
  ],
  guidelines: ['Stop a set if you feel sharp pain.'],
};

export async function startFakeOpenAi(): Promise<FakeOpenAi> {
  const requests: FakeOpenAiRequest[] = [];
  const queue: FakeOpenAiBehaviour[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let fallback: FakeOpenAiBehaviour = { kind: 'ok' };
  let counter = 0;

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed)
        sendJson(res, 500, openAiError('fake server failure', 'server_error'));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const raw = await readBody(req);
    if (req.method !== 'POST' || (path !== '/v1/chat/completions' && path !== '/chat/completions')) {
      sendJson(res, 404, openAiError(`Unknown request URL: ${req.method} ${path}`, 'invalid_request_error'));
      return;
    }
    let body: unknown = raw;
    try {
      body = JSON.parse(raw);
    } catch {
      // Recorded as text so a test can see what the client sent.
    }
    requests.push({ method: req.method, path, headers: req.headers, body });
    counter += 1;
    reply(res, queue.shift() ?? fallback, body, counter);
  }

  function reply(res: ServerResponse, behaviour: FakeOpenAiBehaviour, body: unknown, n: number): void {
    const model = (body as { model?: unknown } | null)?.model;
    const completion = (content: string | null, extra: Record<string, unknown> = {}) =>
      chatCompletion(n, typeof model === 'string' ? model : 'gpt-4o-mini', content, extra);
    const headers = { 'x-request-id': `req_fake_${n}` };

    switch (behaviour.kind) {
      case 'ok':
        sendJson(res, 200, completion(JSON.stringify(behaviour.content ?? FAKE_PLAN)), headers);
        return;
      case 'rate_limited': {
        const limitHeaders: Record<string, string> = { ...headers };
        if (behaviour.retryAfterSeconds !== undefined) {
          limitHeaders['retry-after'] = String(behaviour.retryAfterSeconds);
        }
        if (behaviour.retryAfterMs !== undefined)
          limitHeaders['retry-after-ms'] = String(behaviour.retryAfterMs);
        const error = openAiError('Rate limit reached for requests. Please try again later.', 'requests');
        error.error.code = 'rate_limit_exceeded';
        sendJson(res, 429, error, limitHeaders);
        return;
      }
      case 'quota_exceeded': {
        const error = openAiError(
          'You exceeded your current quota, please check your plan and billing details.',
          'insufficient_quota',
        );
        error.error.code = 'insufficient_quota';
        sendJson(res, 429, error, headers);
        return;
      }
      case 'server_error':
        sendJson(
          res,
          behaviour.status ?? 500,
          openAiError('The server had an error.', 'server_error'),
          headers,
        );
        return;
      case 'slow': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          // The client may have timed out and hung up meanwhile; writing then would throw.
          if (res.destroyed || res.writableEnded) return;
          reply(res, behaviour.andThen ?? { kind: 'ok' }, body, n);
        }, behaviour.delayMs);
        timers.add(timer);
        res.on('close', () => {
          clearTimeout(timer);
          timers.delete(timer);
        });
        return;
      }
      case 'malformed_json':
        sendJson(res, 200, completion('{"summary": "trunc'), headers);
        return;
      case 'schema_mismatch':
        sendJson(res, 200, completion(JSON.stringify({ plan: 'Do some push-ups', weeks: 'four' })), headers);
        return;
      case 'garbage_body':
        res.writeHead(200, { 'content-type': 'application/json', ...headers });
        res.end('<html><body>upstream hiccup</body></html>');
        return;
      case 'unauthorized': {
        const key = (res.req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
        const error = openAiError(
          `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          'invalid_request_error',
        );
        error.error.code = 'invalid_api_key';
        sendJson(res, 401, error, headers);
        return;
      }
      case 'refusal':
        sendJson(
          res,
          200,
          completion(null, { refusal: "I'm sorry, I can't help with that request." }),
          headers,
        );
        return;
      case 'truncated':
        sendJson(
          res,
          200,
          completion('{"summary": "A plan that never', { finish_reason: 'length' }),
          headers,
        );
        return;
      case 'content_filter':
        sendJson(res, 200, completion(null, { finish_reason: 'content_filter' }), headers);
        return;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...behaviours) => {
      queue.push(...behaviours);
    },
    setDefault: (behaviour) => {
      fallback = behaviour;
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // server.close() alone waits for keep-alive and in-flight (slow) connections to end.
      server.closeAllConnections();
      await closed;
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function openAiError(message: string, type: string) {
  return { error: { message, type, param: null as string | null, code: null as string | null } };
}

/** Shaped like a real chat.completion object; `extra` overrides finish_reason or sets a refusal. */
function chatCompletion(
  n: number,
  model: string,
  content: string | null,
  extra: { refusal?: string; finish_reason?: string } = {},
) {
  const completionTokens = Math.ceil((content ?? extra.refusal ?? '').length / 4);
  return {
    id: `chatcmpl-fake${n}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: extra.refusal ?? null, annotations: [] },
        finish_reason: extra.finish_reason ?? 'stop',
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: 350, completion_tokens: completionTokens, total_tokens: 350 + completionTokens },
    service_tier: 'default',
    system_fingerprint: 'fp_fake',
  };
}
