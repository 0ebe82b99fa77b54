import { z } from 'zod';
import { withTimeout } from '../util/with-timeout.ts';
import { BillingSyncError } from './billing-sync-error.ts';

/**
 * The external billing service (BILLING_PROVIDER=http): a coach who already sells subscriptions
 * elsewhere, mirrored into our subscription table by billing.sync. The contract:
 *
 *   POST {BILLING_URL}/subscriptions/batch
 *   Authorization: Bearer {BILLING_API_KEY}
 *   Content-Type: application/json
 *   {"userIds": ["123456789", ...]}            Telegram ids as decimal strings, at most BILLING_BATCH_SIZE
 *
 *   200 {"subscriptions": [
 *     {"userId": "123456789",                  one of the ids asked for, at most once
 *      "planTitle": "Monthly coaching",         1-200 characters
 *      "status": "active",                      active | cancelled (paid, will not renew) | expired | refunded
 *      "currentPeriodEnd": "2026-12-31T00:00:00Z",   ISO 8601 with a zone, or null (no end known)
 *      "renews": true,
 *      "price": 1990,                           per period, in the currency's smallest unit, integer >= 0
 *      "currency": "EUR"}                       3 letters
 *   ]}
 *
 * A user the reply leaves out has no subscription there. Extra fields are ignored. Anything
 * else (invalid JSON, a missing field, an id we did not ask for) fails the whole batch as a bad
 * reply before anything is written. 429 and 5xx are "down" (retried; Retry-After honoured), 401
 * and 403 refuse our key. Each call is bounded by BILLING_TIMEOUT_MS.
 */

const SUBSCRIPTION_STATUSES = ['active', 'cancelled', 'expired', 'refunded'] as const;

export const remoteSubscriptionSchema = z
  .object({
    userId: z.string().regex(/^\d{1,20}$/),
    // PostgreSQL cannot store NUL; lone surrogates become U+FFFD rather than failing the insert.
    planTitle: z
      .string()
      .min(1)
      .max(200)
      .refine((title) => !title.includes('\u0000'), 'contains NUL')
      .transform((title) => title.toWellFormed()),
    status: z.enum(SUBSCRIPTION_STATUSES),
    currentPeriodEnd: z.iso
      .datetime({ offset: true })
      .nullable()
      .transform((at) => (at === null ? null : new Date(at))),
    renews: z.boolean(),
    price: z.number().int().min(0).max(2_147_483_647),
    currency: z.string().regex(/^[A-Z]{3}$/),
  })
  .loose();

export type RemoteSubscription = z.output<typeof remoteSubscriptionSchema>;

const replySchema = z.object({ subscriptions: z.array(remoteSubscriptionSchema) }).loose();

export interface HttpBillingClient {
  /** The subscriptions of these users (Telegram ids) that the service knows; absent: none. */
  fetchSubscriptions(telegramIds: string[], signal?: AbortSignal): Promise<RemoteSubscription[]>;
}

export function createHttpBillingClient(options: {
  url: string;
  apiKey: string | undefined;
  timeoutMs: number;
}): HttpBillingClient {
  const endpoint = `${options.url.replace(/\/+$/, '')}/subscriptions/batch`;
  const down = (message: string, retryAfterMs?: number) =>
    new BillingSyncError('provider_down', message, 'billing', retryAfterMs);
  const badReply = (message: string) => new BillingSyncError('bad_reply', message, 'billing');

  async function post(telegramIds: string[], callSignal: AbortSignal): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
        },
        body: JSON.stringify({ userIds: telegramIds }),
        signal: callSignal,
      });
    } catch (error) {
      if (callSignal.aborted) throw callSignal.reason;
      throw down(`billing service unreachable: ${describe(error)}`);
    }
    const text = await response.text().catch((error) => {
      if (callSignal.aborted) throw callSignal.reason;
      throw down(`billing service dropped its answer: ${describe(error)}`);
    });
    if (response.status === 401 || response.status === 403) {
      throw new BillingSyncError(
        'refused',
        `billing service refused our API key (${response.status})`,
        'billing',
      );
    }
    if (response.status === 429 || response.status >= 500) {
      throw down(
        `billing service answered ${response.status}`,
        retryAfterMs(response.headers.get('retry-after')),
      );
    }
    if (response.status !== 200) {
      throw new BillingSyncError('refused', `billing service answered ${response.status}`, 'billing');
    }
    try {
      return JSON.parse(text);
    } catch {
      throw badReply('billing service answered with invalid JSON');
    }
  }

  return {
    async fetchSubscriptions(telegramIds, runSignal) {
      const body = await withTimeout(
        options.timeoutMs,
        (timeoutSignal) =>
          post(telegramIds, runSignal ? AbortSignal.any([timeoutSignal, runSignal]) : timeoutSignal),
        () =>
          new BillingSyncError(
            'timeout',
            `billing service did not answer within ${options.timeoutMs} ms`,
            'billing',
          ),
      );
      const parsed = replySchema.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw badReply(`billing service reply is malformed at ${issue?.path.join('.')}: ${issue?.message}`);
      }
      const asked = new Set(telegramIds);
      const seen = new Set<string>();
      for (const item of parsed.data.subscriptions) {
        if (!asked.has(item.userId))
          throw badReply(`billing service answered for user ${item.userId}, not asked for`);
        if (seen.has(item.userId)) throw badReply(`billing service answered twice for user ${item.userId}`);
        seen.add(item.userId);
      }
      return parsed.data.subscriptions;
    },
  };
}

/** Retry-After in seconds or as an HTTP date; capped at an hour so a wrong header cannot park the job. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, 3_600_000) : undefined;
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
