import type { EntityManager } from '../db/orm.ts';

const DAY_MS = 24 * 3600_000;

/** Bumped when the shape changes: older snapshots are then treated as missing, not served. */
export const METRICS_VERSION = 1;

export interface WindowCounts {
  /** Applications received in the window (whatever their status is now). */
  new: number;
  /** Decisions taken in the window (by decided_at). */
  accepted: number;
  rejected: number;
}

export interface Revenue {
  /** Sum of active subscriptions' prices; null when they are in more than one currency. */
  mrrCents: number | null;
  currency: string | null;
  byCurrency: Record<string, number>;
}

export interface TenantMetrics {
  subscribers: { active: number; pastDue: number; clients: number };
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
  /** Null unless billing knows prices (the tenant has subscription rows). */
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
    subscribers: { active: 0, pastDue: 0, clients: 0 },
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

/**
 * Four aggregate queries, each one pass over an index range of the tenant's recent rows (see
 * Migration20261127030000Metrics). They run on a read replica when one is configured: a snapshot
 * a second behind the primary is still a correct snapshot.
 */
export async function computeTenantMetrics(
  em: EntityManager,
  tenantId: string,
  now: Date = new Date(),
): Promise<TenantMetrics> {
  const ago = (days: number) => new Date(now.getTime() - days * DAY_MS);
  const [d1, d7, d30] = [ago(1), ago(7), ago(30)];
  const read = async (sql: string, params: unknown[]): Promise<Row[]> =>
    em.execute<Row[]>(sql, params, { connectionType: 'read' });

  const [[users], subscriptions, [applications], [plans]] = await Promise.all([
    read(
      `select (select count(*) from telegram_user where tenant_id = ? and is_client) as clients,
        count(*) filter (where last_seen_at > ?) as dau,
        count(*) filter (where last_seen_at > ?) as wau,
        count(*) as mau
      from telegram_user where tenant_id = ? and last_seen_at > ?`,
      [tenantId, d1, d7, tenantId, d30],
    ),
    read(
      `select status, currency, count(*) as count, sum(price_cents) as cents
      from subscription where tenant_id = ? group by status, currency`,
      [tenantId],
    ),
    read(
      `select (select count(*) from application where tenant_id = ? and status = 'new') as pending,
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
      [tenantId, d1, d7, d30, d1, d7, d30, d1, d7, d30, tenantId, d30, d30],
    ),
    read(
      `select count(*) filter (where status = 'ready') as generated,
        count(*) filter (where status = 'failed') as failed,
        count(*) filter (where status in ('queued', 'generating')) as in_progress,
        avg(extract(epoch from ready_at - started_at))
          filter (where status = 'ready' and started_at is not null and ready_at is not null) as avg_seconds
      from personal_plan where tenant_id = ? and created_at > ?`,
      [tenantId, d30],
    ),
  ]);

  const window = (suffix: 1 | 7 | 30): WindowCounts => ({
    new: num(applications?.[`new_${suffix}`]),
    accepted: num(applications?.[`accepted_${suffix}`]),
    rejected: num(applications?.[`rejected_${suffix}`]),
  });
  const last30Days = window(30);
  const decided = last30Days.accepted + last30Days.rejected;
  const avgSeconds = plans?.avg_seconds;

  return {
    subscribers: {
      active: sumWhere(subscriptions, 'active', 'count'),
      pastDue: sumWhere(subscriptions, 'past_due', 'count'),
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
    revenue: revenueOf(subscriptions),
  };
}

function sumWhere(rows: Row[], status: string, column: string): number {
  return rows.filter((row) => row.status === status).reduce((sum, row) => sum + num(row[column]), 0);
}

/**
 * MRR counts active subscriptions only (past_due may still be lost) and takes price_cents as a
 * monthly price, which is what the local billing provider stores. Sums across currencies are
 * meaningless, so mixed currencies report per currency only.
 */
function revenueOf(rows: Row[]): Revenue | null {
  if (rows.length === 0) return null;
  const byCurrency: Record<string, number> = {};
  for (const row of rows) {
    if (row.status !== 'active') continue;
    const currency = String(row.currency);
    byCurrency[currency] = (byCurrency[currency] ?? 0) + num(row.cents);
  }
  const currencies = Object.keys(byCurrency);
  if (currencies.length === 0) return { mrrCents: 0, currency: null, byCurrency };
  if (currencies.length > 1) return { mrrCents: null, currency: null, byCurrency };
  return { mrrCents: byCurrency[currencies[0]!]!, currency: currencies[0]!, byCurrency };
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
