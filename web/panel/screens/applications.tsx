import { useEffect, useState } from 'react';
import { formatDate } from '../../shared/i18n.ts';
import { haptic } from '../../shared/telegram.ts';
import { Badge, ConfirmButton, ListFooter, ScreenHeader } from '../components.tsx';
import { personName, usePanel } from '../context.ts';
import { usePagedList } from '../use-paged.ts';

interface Application {
  id: string;
  status: 'new' | 'accepted' | 'rejected';
  createdAt: string;
  decidedAt: string | null;
  user: { telegramId: string; firstName: string; lastName: string | null; username: string | null } | null;
  survey: { goal: string; experience: string; daysPerWeek: number } | null;
  plan: { id: string; status: string } | null;
}

const STATUSES = ['new', 'accepted', 'rejected'] as const;
const TONE = { new: 'warn', accepted: 'ok', rejected: 'neutral' } as const;
const PLAN_TONE: Record<string, 'ok' | 'warn' | 'bad' | 'neutral'> = {
  ready: 'ok',
  failed: 'bad',
  queued: 'neutral',
  generating: 'neutral',
};

export function ApplicationsScreen() {
  const { api, t, language, can, live } = usePanel();
  const [status, setStatus] = useState<'' | (typeof STATUSES)[number]>('');
  const list = usePagedList<Application>(
    api,
    `/api/panel/applications${status ? `?status=${status}` : ''}`,
    (a) => a.id,
  );
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const { refreshHead, update } = list;

  useEffect(
    () =>
      live.subscribe((event) => {
        if (event.type === 'application.created' || event.type === 'ready') {
          refreshHead()
            .then((added) => {
              if (event.type === 'application.created' && added.length)
                setFresh((old) => new Set([...old, ...added.map((a) => a.id)]));
            })
            .catch(() => {});
        } else if (event.type === 'plan.status') {
          update((items) =>
            items.map((a) =>
              a.plan?.id === event.planId ? { ...a, plan: { id: a.plan.id, status: event.status } } : a,
            ),
          );
        }
      }),
    [live, refreshHead, update],
  );

  async function decide(application: Application, decision: 'accept' | 'reject') {
    const result = await api.send<{ id: string; status: Application['status']; decidedAt: string }>(
      'POST',
      `/api/panel/applications/${application.id}/${decision}`,
    );
    haptic('success');
    update((items) =>
      items
        .map((a) => (a.id === result.id ? { ...a, status: result.status, decidedAt: result.decidedAt } : a))
        // A decided row leaves the "new" filter.
        .filter((a) => !status || a.status === status),
    );
  }

  return (
    <>
      <ScreenHeader title={t.tabs.applications}>
        <div className="filter">
          <label htmlFor="application-status">{t.statusFilter}</label>
          <select
            id="application-status"
            value={status}
            onChange={(e) => setStatus(e.target.value as typeof status)}
          >
            <option value="">{t.allStatuses}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {t.appStatus[s]}
              </option>
            ))}
          </select>
        </div>
      </ScreenHeader>
      <ul className="cards" aria-label={t.tabs.applications}>
        {list.items.map((a) => {
          const name = personName(a.user);
          return (
            <li
              key={a.id}
              className={`card${fresh.has(a.id) ? ' card-fresh' : ''}`}
              data-application-id={a.id}
            >
              <div className="card-head">
                <h3>
                  {name}
                  {a.user?.username && <span className="hint"> @{a.user.username}</span>}
                </h3>
                <Badge tone={TONE[a.status]}>{t.appStatus[a.status]}</Badge>
                {fresh.has(a.id) && <Badge tone="warn">{t.newBadge}</Badge>}
              </div>
              {a.survey && (
                <p>
                  {t.surveyLine(
                    t.goals[a.survey.goal] ?? a.survey.goal,
                    t.experience[a.survey.experience] ?? a.survey.experience,
                    a.survey.daysPerWeek,
                  )}
                </p>
              )}
              <p className="hint">
                {t.received(formatDate(a.createdAt, language, true))}
                {a.decidedAt && ` · ${t.decided(formatDate(a.decidedAt, language, true))}`}
              </p>
              {a.plan && (
                <p>
                  <Badge tone={PLAN_TONE[a.plan.status] ?? 'neutral'}>
                    {t.planStatus[a.plan.status] ?? a.plan.status}
                  </Badge>
                </p>
              )}
              {can('manage_clients') && a.status === 'new' && (
                <div className="row actions">
                  <ConfirmButton
                    label={t.accept}
                    className="primary"
                    question={t.confirmAccept(name)}
                    onConfirm={() => decide(a, 'accept')}
                  />
                  <ConfirmButton
                    label={t.reject}
                    className="danger"
                    question={t.confirmReject(name)}
                    onConfirm={() => decide(a, 'reject')}
                  />
                </div>
              )}
            </li>
          );
        })}
      </ul>
      <ListFooter list={list} empty={t.noApplications} />
    </>
  );
}
