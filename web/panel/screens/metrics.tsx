import { useEffect, useState } from 'react';
import { formatDate } from '../../shared/i18n.ts';
import { ErrorBanner, Section, Spinner } from '../../shared/ui.tsx';
import { BarChart } from '../bar-chart.tsx';
import { ScreenHeader } from '../components.tsx';
import { usePanel } from '../context.ts';
import { retryDelay } from '../retry.ts';

interface Counts {
  new: number;
  accepted: number;
  rejected: number;
}

interface Metrics {
  computedAt: string | null;
  subscribers: { active: number; cancelled: number; clients: number };
  applications: {
    pending: number;
    today: Counts;
    last7Days: Counts;
    last30Days: Counts;
    conversionRate: number | null;
  };
  plans: { generated: number; failed: number; inProgress: number; averageGenerationSeconds: number | null };
  users: { dau: number; wau: number; mau: number };
  revenue?: {
    currency: string | null;
    mrr: number | null;
    activeSubscribers: number;
    newLast30d: number;
    churnedLast30d: number;
    churnRate30d: number | null;
    trialToPaid30d: number | null;
  } | null;
}

const RECHECK_MS = 5_000;

function percent(value: number | null, language: string): string {
  if (value === null) return '—';
  return new Intl.NumberFormat(language, { style: 'percent', maximumFractionDigits: 1 }).format(value);
}

function Stat({ label, value }: { label: string; value: string | number }) {
  return (
    <div className="stat">
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

export function MetricsScreen() {
  const { api, t, language, can } = usePanel();
  const [metrics, setMetrics] = useState<Metrics>();
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout>;
    let failures = 0;
    const load = () => {
      api
        .get<Metrics>('/api/panel/metrics')
        .then((m) => {
          if (cancelled) return;
          failures = 0;
          setError(undefined);
          setMetrics(m);
          // 202 before the first computation: computedAt is null until the job has run.
          if (m.computedAt === null) timer = setTimeout(load, RECHECK_MS);
        })
        .catch((e: unknown) => {
          if (cancelled) return;
          setError(e);
          // Only a server or network failure is worth asking again (4xx stops: see retryDelay).
          const delay = retryDelay(e, failures, RECHECK_MS);
          failures += 1;
          if (delay !== undefined) timer = setTimeout(load, delay);
        });
    };
    load();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [api]);

  if (!metrics)
    return (
      <>
        <ScreenHeader title={t.tabs.metrics} />
        {error ? <ErrorBanner error={error} fallback={t.networkError} /> : <Spinner label={t.loading} />}
      </>
    );
  const a = metrics.applications;
  const revenue = can('view_revenue') ? metrics.revenue : undefined;
  return (
    <>
      <ScreenHeader title={t.tabs.metrics}>
        <p className="hint">
          {metrics.computedAt ? t.computedAt(formatDate(metrics.computedAt, language, true)) : t.computing}
        </p>
      </ScreenHeader>
      {/* A failed recheck keeps the numbers already shown; the banner says why they may be old. */}
      <ErrorBanner error={error} fallback={t.networkError} />
      <dl className="stats">
        <Stat label={t.pending} value={a.pending} />
        <Stat label={t.conversion} value={percent(a.conversionRate, language)} />
        <Stat label={t.clients} value={metrics.subscribers.clients} />
        <Stat label={t.activeSubs} value={metrics.subscribers.active} />
        <Stat label={t.cancelledSubs} value={metrics.subscribers.cancelled} />
      </dl>
      <div className="two-columns">
        <Section>
          <BarChart
            caption={t.applicationsChart}
            groups={t.windows}
            series={[
              {
                label: t.seriesNew,
                values: [a.today.new, a.last7Days.new, a.last30Days.new],
                colorVar: '--chart-1',
              },
              {
                label: t.seriesAccepted,
                values: [a.today.accepted, a.last7Days.accepted, a.last30Days.accepted],
                colorVar: '--chart-2',
              },
              {
                label: t.seriesRejected,
                values: [a.today.rejected, a.last7Days.rejected, a.last30Days.rejected],
                colorVar: '--chart-3',
              },
            ]}
          />
        </Section>
        <Section>
          <BarChart
            caption={t.usersChart}
            groups={t.usersWindows}
            series={[
              {
                label: t.usersChart,
                values: [metrics.users.dau, metrics.users.wau, metrics.users.mau],
                colorVar: '--chart-1',
              },
            ]}
          />
        </Section>
      </div>
      <Section title={t.plansTitle} id="metrics-plans">
        <dl className="stats">
          <Stat label={t.plansGenerated} value={metrics.plans.generated} />
          <Stat label={t.plansFailed} value={metrics.plans.failed} />
          <Stat label={t.plansInProgress} value={metrics.plans.inProgress} />
          <Stat
            label={t.avgGeneration}
            value={
              metrics.plans.averageGenerationSeconds === null
                ? '—'
                : `${Math.round(metrics.plans.averageGenerationSeconds)} s`
            }
          />
        </dl>
      </Section>
      {can('view_revenue') && (
        <Section title={t.revenueTitle} id="metrics-revenue">
          {revenue ? (
            <>
              <dl className="stats">
                <Stat
                  label={t.mrr}
                  value={
                    revenue.mrr === null
                      ? '—'
                      : revenue.currency === 'XTR'
                        ? t.stars(revenue.mrr)
                        : `${revenue.mrr} ${revenue.currency ?? ''}`
                  }
                />
                <Stat label={t.churnRate} value={percent(revenue.churnRate30d, language)} />
                <Stat label={t.trialToPaid} value={percent(revenue.trialToPaid30d, language)} />
              </dl>
              <BarChart
                caption={t.revenueChart}
                groups={t.revenueGroups}
                series={[
                  {
                    label: t.revenueChart,
                    values: [revenue.activeSubscribers, revenue.newLast30d, revenue.churnedLast30d],
                    colorVar: '--chart-2',
                  },
                ]}
              />
            </>
          ) : (
            <p className="hint">{t.noRevenue}</p>
          )}
        </Section>
      )}
    </>
  );
}
