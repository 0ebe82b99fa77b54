import { paidUpSql } from '../billing/subscriptions.ts';
import type { EntityManager } from '../db/orm.ts';

const DAY_MS = 24 * 3600_000;

/** Bumped when the shape changes: older snapshots are then treated as missing, not served. */
export const METRICS_VERSION = 2;

export interface WindowCounts {
  /** Applications received in the window (whatever their status is now). */
  new: number;
  /** Decisions taken in the window (by decided_at). */
  accepted: number;
  rejected: number;
}

/**
 * Subscription revenue, from the local `subscription` and `subscription_event` tables. "Paid up"
 * is isPaidUp() in src/billing/subscriptions.ts: status active or cancelled, and current_period_end
 * null or after now (a row whose period ended but which billing.sync has not yet marked expired is
 * not paid up). The 30-day windows are (now - 30 days, now].
 */
export interface Revenue {
  /** The currency of `mrr`: 'XTR' for Telegram Stars; null when renewing rows mix currencies. */
  currency: string | null;
  /** Sum of `price` (per 30-day period) over paid-up subscriptions with status active and renews
   * true; null when those are in more than one currency (a sum across currencies means nothing). */
  mrr: number | null;
  /** Users paid up now: subscribers.active + subscribers.cancelled. */
  activeSubscribers: number;
  /** Distinct users with a 'started' event in the window (re-subscribing after an end counts). */
  newLast30d: number;
  /** Distinct users with an 'expired' or 'refunded' event in the window who are not paid up now. */
  churnedLast30d: number;
  /** churned / subscribers at the window start, estimated as active - new + churned; 4 digits;
   * null when that estimate is 0 or less. */
  churnRate30d: number | null;
  /** Of the users whose first survey (the free AI plan: the trial) is in the window, the fraction
   * with a 'started' event at or after that survey; 4 digits; null when there are none. */
  trialToPaid30d: number | null;
}

export interface TenantMetrics {
  /** Paid-up subscriptions (see Revenue) by whether they renew, and the tenant's clients. */
  subscribers: {
    /** Paid up, status active and renewing: what MRR counts. */
    active: number;
    /** Paid up but not renewing: cancelled inside the paid period (or a one-off payment). */
    cancelled: number;
    clients: number;
  };
  applications: {
    /** Awaiting a decision now, whatever their age. */
    pending: number;
    today: WindowCounts;
    last7Days: WindowCounts;
    last30Days: WindowCounts;
    /** accepted / (accepted + rejected) over the last 30 days; null when nothing was decided. */
    conversionRate: number | null;
  };
  /** Plans created in the last 30 days. */
  plans: {
    generated: number;
    failed: number;
    inProgress: number;
    averageGenerationSeconds: number | null;
  };
  /** Mini App users seen (telegram_user.last_seen_at) in the last 1, 7 and 30 days. */
  users: { dau: number; wau: number; mau: number };
  /** Null until billing knows prices (the tenant has no subscription row, whatever its status). */
  revenue: Revenue | null;
}

export interface MetricsSnapshotData {
  computedAt: string;
  metrics: TenantMetrics;
}

const emptyWindow = (): WindowCounts => ({ new: 0, accepted: 0, rejected: 0 });

/** What the panel shows before the first computation: the same shape, all zero. */
export function emptyMetrics(): TenantMetrics {
  return {
    subscribers: { active: 0, cancelled: 0, clients: 0 },
    applications: {
      pending: 0,
      today: emptyWindow(),
      last7Days: emptyWindow(),
      last30Days: emptyWindow(),
      conversionRate: null,
    },
    plans: { generated: 0, failed: 0, inProgress: 0, averageGenerationSeconds: null },
    users: { dau: 0, wau: 0, mau: 0 },
    revenue: null,
  };
}

type Row = Record<string, string | number | null>;
const num = (value: string | number | null | undefined): number => Number(value ?? 0);

/** Paid up at the snapshot's time (`?`), for a `subscription` row aliased `x`. */
const PAID_UP = paidUpSql('x', '?');

/** One of the recompute's statements, with `?` placeholders. */
export interface MetricsQuery {
  sql: string;
  params: unknown[];
}

export type MetricsQueryName = 'users' | 'subscriptions' | 'history' | 'applications' | 'plans';

/**
 * The statements behind a snapshot, by name; exported so the `metrics` benchmark can EXPLAIN
 * exactly what runs. Each reads index ranges of the tenant's rows, never a whole table or index
 * (Migration20261127030000Metrics, Migration20261202000000Billing,
 * Migration20261205000000MetricsRanges; plans in docs/benchmarks.md, "Panel metrics at scale"):
 * - users: telegram_user_tenant_id_last_seen_at_index (last 30 days) + telegram_user_clients_index;
 * - subscriptions: subscription_live_index (its predicate is part of PAID_UP);
 * - history: subscription_event_window_index; the window's surveys from
 *   survey_tenant_id_created_at_index, each probed in survey_tenant_id_user_id_created_at_index
 *   for an earlier survey (trials are users with none);
 * - applications: application_tenant_id_status_created_at_id_index (pending) and a BitmapOr of
 *   the created_at and decided_at ranges;
 * - plans: personal_plan_tenant_id_created_at_index.
 */
export function metricsQueries(tenantId: string, now: Date): Record<MetricsQueryName, MetricsQuery> {
  const ago = (days: number) => new Date(now.getTime() - days * DAY_MS);
  const [d1, d7, d30] = [ago(1), ago(7), ago(30)];
  return {
    users: {
      sql: `select (select count(*) from telegram_user where tenant_id = ? and is_client) as clients,
        count(*) filter (where last_seen_at > ?) as dau,
        count(*) filter (where last_seen_at > ?) as wau,
        count(*) as mau
      from telegram_user where tenant_id = ? and last_seen_at > ?`,
      params: [tenantId, d1, d7, tenantId, d30],
    },
    subscriptions: {
      sql: `select currency, count(*) filter (where renewing) as renewing,
        count(*) filter (where not renewing) as not_renewing,
        coalesce(sum(price) filter (where renewing), 0) as mrr
      from (select currency, price, status = 'active' and renews as renewing
        from subscription x where x.tenant_id = ? and ${PAID_UP}) paid_up
      group by currency`,
      params: [tenantId, now],
    },
    history: {
      sql: `with events as (select user_id, kind, at from subscription_event
          where tenant_id = ? and at > ? and at <= ? and kind in ('started', 'expired', 'refunded')),
        started as (select user_id, max(at) as last_at from events where kind = 'started' group by user_id),
        ended as (select distinct user_id from events where kind <> 'started'),
        trials as (select s.user_id, min(s.created_at) as first_at from survey s
          where s.tenant_id = ? and s.created_at > ? and s.created_at <= ? and not exists (
            select 1 from survey p where p.tenant_id = s.tenant_id and p.user_id = s.user_id and p.created_at <= ?)
          group by s.user_id)
      select (select count(*) from started) as new_30,
        (select count(*) from ended e
          where not exists (select 1 from subscription x where x.user_id = e.user_id and ${PAID_UP})) as churned_30,
        (select count(*) from trials) as trials_30,
        (select count(*) from trials t join started st on st.user_id = t.user_id and st.last_at >= t.first_at)
          as paid_trials_30`,
      params: [tenantId, d30, now, tenantId, d30, now, d30, now],
    },
    applications: {
      sql: `select (select count(*) from application where tenant_id = ? and status = 'new') as pending,
        count(*) filter (where created_at > ?) as new_1,
        count(*) filter (where created_at > ?) as new_7,
        count(*) filter (where created_at > ?) as new_30,
        count(*) filter (where status = 'accepted' and decided_at > ?) as accepted_1,
        count(*) filter (where status = 'accepted' and decided_at > ?) as accepted_7,
        count(*) filter (where status = 'accepted' and decided_at > ?) as accepted_30,
        count(*) filter (where status = 'rejected' and decided_at > ?) as rejected_1,
        count(*) filter (where status = 'rejected' and decided_at > ?) as rejected_7,
        count(*) filter (where status = 'rejected' and decided_at > ?) as rejected_30
      from application where tenant_id = ? and (created_at > ? or decided_at > ?)`,
      params: [tenantId, d1, d7, d30, d1, d7, d30, d1, d7, d30, tenantId, d30, d30],
    },
    plans: {
      sql: `select count(*) filter (where status = 'ready') as generated,
        count(*) filter (where status = 'failed') as failed,
        count(*) filter (where status in ('queued', 'generating')) as in_progress,
        avg(extract(epoch from ready_at - started_at))
          filter (where status = 'ready' and started_at is not null and ready_at is not null) as avg_seconds
      from personal_plan where tenant_id = ? and created_at > ?`,
      params: [tenantId, d30],
    },
  };
}

/**
 * The five statements of metricsQueries side by side, and a sixth only for a tenant nobody is paid
 * up with. They run on a read replica when one is configured: a snapshot a second behind the
 * primary is still a correct snapshot.
 */
export async function computeTenantMetrics(
  em: EntityManager,
  tenantId: string,
  now: Date = new Date(),
): Promise<TenantMetrics> {
  const read = async ({ sql, params }: MetricsQuery): Promise<Row[]> =>
    em.execute<Row[]>(sql, params, { connectionType: 'read' });
  const q = metricsQueries(tenantId, now);
  const [[users], subscriptions, [history], [applications], [plans]] = await Promise.all([
    read(q.users),
    read(q.subscriptions),
    read(q.history),
    read(q.applications),
    read(q.plans),
  ]);

  const window = (suffix: 1 | 7 | 30): WindowCounts => ({
    new: num(applications?.[`new_${suffix}`]),
    accepted: num(applications?.[`accepted_${suffix}`]),
    rejected: num(applications?.[`rejected_${suffix}`]),
  });
  const last30Days = window(30);
  const decided = last30Days.accepted + last30Days.rejected;
  const avgSeconds = plans?.avg_seconds;
  const total = (column: string) => subscriptions.reduce((sum, row) => sum + num(row[column]), 0);
  // Nobody paid up: the tenant's currencies, if it has any subscription row at all. Not indexed
  // (subscription has no plain tenant index), so it runs only then and stops at two currencies.
  const currencies =
    subscriptions.length > 0
      ? subscriptions.map((row) => String(row.currency))
      : (
          await read({
            sql: 'select distinct currency from subscription where tenant_id = ? limit 2',
            params: [tenantId],
          })
        ).map((row) => String(row.currency));

  return {
    subscribers: {
      active: total('renewing'),
      cancelled: total('not_renewing'),
      clients: num(users?.clients),
    },
    applications: {
      pending: num(applications?.pending),
      today: window(1),
      last7Days: window(7),
      last30Days,
      conversionRate: decided === 0 ? null : round(last30Days.accepted / decided, 4),
    },
    plans: {
      generated: num(plans?.generated),
      failed: num(plans?.failed),
      inProgress: num(plans?.in_progress),
      averageGenerationSeconds: avgSeconds == null ? null : round(Number(avgSeconds), 1),
    },
    users: { dau: num(users?.dau), wau: num(users?.wau), mau: num(users?.mau) },
    revenue: currencies.length === 0 ? null : revenueOf(subscriptions, currencies, history ?? {}),
  };
}

/** `paidUp`: the paid-up rows by currency; `currencies`: theirs, or else those of any row. */
function revenueOf(paidUp: Row[], currencies: string[], history: Row): Revenue {
  const renewing = paidUp.filter((row) => num(row.renewing) > 0);
  const activeSubscribers = paidUp.reduce((sum, row) => sum + num(row.renewing) + num(row.not_renewing), 0);
  const newLast30d = num(history.new_30);
  const churnedLast30d = num(history.churned_30);
  // Who was paid up 30 days ago is not stored; today's count minus arrivals plus departures is.
  const atStart = activeSubscribers - newLast30d + churnedLast30d;
  const trials = num(history.trials_30);
  // MRR's currency; with nothing renewing MRR is 0 in any currency, so the tenant's only one labels it.
  const labels = renewing.length > 0 ? renewing.map((row) => String(row.currency)) : currencies;
  return {
    currency: labels.length === 1 ? labels[0]! : null,
    mrr: renewing.length > 1 ? null : num(renewing[0]?.mrr),
    activeSubscribers,
    newLast30d,
    churnedLast30d,
    churnRate30d: atStart > 0 ? round(churnedLast30d / atStart, 4) : null,
    trialToPaid30d: trials > 0 ? round(num(history.paid_trials_30) / trials, 4) : null,
  };
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export interface MetricsView extends Omit<TenantMetrics, 'revenue'> {
  computedAt: string | null;
  revenue?: Revenue | null;
}

/** The API body: `revenue` is present only for roles with view_revenue. */
export function metricsView(snapshot: MetricsSnapshotData | null, canViewRevenue: boolean): MetricsView {
  const { revenue, ...rest } = snapshot?.metrics ?? emptyMetrics();
  const view: MetricsView = { computedAt: snapshot?.computedAt ?? null, ...rest };
  if (canViewRevenue) view.revenue = revenue;
  return view;
}
