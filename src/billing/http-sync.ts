import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { Subscription } from '../db/entities/index.ts';
import { type EntityManager, forkForTenant } from '../db/orm.ts';
import type { HttpBillingClient, RemoteSubscription } from './http-billing-provider.ts';
import { decideMirror } from './http-subscription-diff.ts';
import { recordSubscriptionChange } from './subscriptions.ts';

/**
 * The http half of billing.sync: asks the external billing service about the tenant's users a
 * batch at a time (one POST per BILLING_BATCH_SIZE users, never one per user) and mirrors each
 * answer into the local subscription row, with a subscription_event for what changed. No client
 * message: the service talks to its own customers. Only rows that differ are written, so a second
 * run with the same answers writes nothing.
 */

export interface HttpSyncInput {
  orm: MikroORM;
  tenantId: string;
  client: HttpBillingClient;
  batchSize: number;
  /** Only these users (Telegram ids); absent: every client and every user with a subscription row. */
  telegramIds?: string[];
  now: Date;
  signal: AbortSignal;
}

export interface HttpSyncResult {
  /** Batch requests made. */
  calls: number;
  users: number;
  /** Rows written (events or quiet updates). */
  changed: number;
}

interface UserRef {
  id: string;
  telegramId: string;
}

export async function syncHttpSubscriptions(input: HttpSyncInput): Promise<HttpSyncResult> {
  const em = forkForTenant(input.orm, input.tenantId);
  const result: HttpSyncResult = { calls: 0, users: 0, changed: 0 };
  let after: string | undefined;
  for (;;) {
    input.signal.throwIfAborted();
    const users = await nextUsers(em, input, after);
    if (users.length === 0) break;
    result.calls++;
    result.users += users.length;
    const remote = await input.client.fetchSubscriptions(
      users.map((user) => user.telegramId),
      input.signal,
    );
    result.changed += await mirrorBatch(input, users, remote);
    if (users.length < input.batchSize) break;
    after = users.at(-1)!.id;
  }
  return result;
}

/** Keyset on the user id: each batch is one indexed range, however many users the tenant has. */
async function nextUsers(
  em: EntityManager,
  input: HttpSyncInput,
  after: string | undefined,
): Promise<UserRef[]> {
  const named = input.telegramIds && input.telegramIds.length > 0;
  const rows = await em.getConnection().execute<{ id: string; telegram_id: string }[]>(
    `select u.id, u.telegram_id::text as telegram_id from telegram_user u
     where u.tenant_id = ? ${after ? 'and u.id > ?' : ''}
       and ${named ? 'u.telegram_id in (?)' : '(u.is_client or exists (select 1 from subscription s where s.user_id = u.id))'}
     order by u.id limit ?`,
    [input.tenantId, ...(after ? [after] : []), ...(named ? [input.telegramIds] : []), input.batchSize],
    'all',
  );
  return rows.map((row) => ({ id: row.id, telegramId: row.telegram_id }));
}

/**
 * Users written per transaction. Every flush walks all entities the transaction's EntityManager
 * holds, so one transaction per 500-user batch grows quadratically: 37 s for a first sync of
 * 10,000 subscribers, against 19 s in chunks of 50 (docs/benchmarks.md).
 */
const WRITE_CHUNK = 50;

/**
 * Decides from an unlocked read which users changed (usually few), then writes those in short
 * transactions that lock them and decide again from what they read under the lock, so a payment
 * or another run that got there first is not overwritten with a stale decision.
 */
async function mirrorBatch(
  input: HttpSyncInput,
  users: UserRef[],
  remote: RemoteSubscription[],
): Promise<number> {
  const answers = new Map(remote.map((item) => [item.userId, item]));
  const before = await localRows(forkForTenant(input.orm, input.tenantId), users);
  const changed = users.filter(
    (user) => decideMirror(before.get(user.id) ?? null, answers.get(user.telegramId) ?? null).write,
  );
  let written = 0;
  for (let start = 0; start < changed.length; start += WRITE_CHUNK) {
    input.signal.throwIfAborted();
    written += await writeChunk(input, changed.slice(start, start + WRITE_CHUNK), answers);
  }
  return written;
}

async function writeChunk(
  input: HttpSyncInput,
  users: UserRef[],
  answers: Map<string, RemoteSubscription>,
): Promise<number> {
  const { tenantId, now } = input;
  return forkForTenant(input.orm, tenantId).transactional(async (tx) => {
    await lockUserRows(tx, tenantId, users);
    const current = await localRows(tx, users, true);
    let written = 0;
    for (const user of users) {
      const row = current.get(user.id) ?? null;
      const decision = decideMirror(row, answers.get(user.telegramId) ?? null);
      if (!decision.write) continue;
      const previousStatus = row?.status ?? null;
      const saved = applyDecision(tx, { tenantId, userId: user.id, row, now, ...decision });
      written++;
      if (decision.events.length === 0) await tx.flush();
      for (const kind of decision.events) {
        await recordSubscriptionChange(tx, {
          tenantId,
          user: { id: user.id, telegramId: user.telegramId, languageCode: null },
          kind,
          source: 'sync',
          at: now,
          detail: {
            provider: 'http',
            previousStatus,
            status: saved.status,
            periodEnd: saved.currentPeriodEnd?.toISOString() ?? null,
          },
          miniAppUrl: undefined,
        });
      }
    }
    return written;
  });
}

function applyDecision(
  tx: EntityManager,
  input: {
    tenantId: string;
    userId: string;
    row: Subscription | null;
    remote: RemoteSubscription | null;
    started: boolean;
    now: Date;
  },
): Subscription {
  const { row, remote, now } = input;
  if (!remote) {
    // Left the service's answer: ended there, and we do not know when exactly.
    Object.assign(row!, { status: 'expired', renews: false, endedAt: now });
    return row!;
  }
  const live = remote.status === 'active' || remote.status === 'cancelled';
  const fields = {
    provider: 'http' as const,
    planId: null,
    planTitle: remote.planTitle,
    status: remote.status,
    renews: remote.renews,
    price: remote.price,
    currency: remote.currency,
    currentPeriodEnd: remote.currentPeriodEnd,
    chargeId: null,
    endedAt: live ? null : (row?.endedAt ?? now),
  };
  if (!row) {
    return tx.create(Subscription, {
      id: randomUUID(),
      tenantId: input.tenantId,
      userId: input.userId,
      startedAt: now,
      ...fields,
    });
  }
  Object.assign(row, fields);
  if (input.started) row.startedAt = now;
  return row;
}

async function localRows(
  em: EntityManager,
  users: UserRef[],
  refresh = false,
): Promise<Map<string, Subscription>> {
  const rows = await em.find(Subscription, { userId: { $in: users.map((user) => user.id) } }, { refresh });
  return new Map(rows.map((row) => [row.userId, row]));
}

/**
 * The batch's users, FOR NO KEY UPDATE as src/db/lock-users.ts explains (payments lock the same
 * rows), in id order so two transactions locking overlapping batches cannot deadlock.
 */
async function lockUserRows(tx: EntityManager, tenantId: string, users: UserRef[]): Promise<void> {
  await tx.execute(
    'select id from telegram_user where tenant_id = ? and id in (?) order by id for no key update',
    [tenantId, users.map((user) => user.id)],
    'all',
  );
}
