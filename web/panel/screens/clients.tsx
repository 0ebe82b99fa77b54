import { useEffect, useState } from 'react';
import { formatDate } from '../../shared/i18n.ts';
import { Badge, ConfirmButton, ListFooter, ScreenHeader } from '../components.tsx';
import { personName, usePanel } from '../context.ts';
import { usePagedList } from '../use-paged.ts';

interface Client {
  telegramId: string;
  firstName: string;
  lastName: string | null;
  username: string | null;
  languageCode: string | null;
  reachable: boolean;
  createdAt: string;
  subscription: {
    planTitle: string;
    status: 'active' | 'cancelled' | 'expired' | 'refunded';
    currentPeriodEnd: string | null;
    renews: boolean;
  } | null;
}

const TONE = { active: 'ok', cancelled: 'warn', expired: 'neutral', refunded: 'bad' } as const;

export function ClientsScreen() {
  const { api, t, language, live } = usePanel();
  const list = usePagedList<Client>(api, '/api/panel/clients', (c) => c.telegramId);
  const { refreshHead, reveal, update } = list;
  const [fresh, setFresh] = useState<Set<string>>(new Set());

  useEffect(
    () =>
      live.subscribe((event) => {
        if (event.type === 'ready') refreshHead().catch(() => {});
        if (event.type === 'client.added') {
          const id = event.telegramId;
          // Clients are sorted by when the user first appeared, not when they became a client: an
          // accepted long-registered user is not on the first page. The event carries only ids, so
          // the row is looked for further down the list when the first page does not have it.
          refreshHead(id)
            .then((added) =>
              added.some((c) => c.telegramId === id) ? id : reveal(id).then((c) => c?.telegramId),
            )
            .then((shown) => shown && setFresh((old) => new Set([...old, shown])))
            .catch(() => {});
        }
        if (event.type === 'client.removed')
          update((items) => items.filter((c) => c.telegramId !== event.telegramId));
      }),
    [live, refreshHead, reveal, update],
  );

  async function remove(client: Client) {
    await api.send('DELETE', `/api/panel/clients/${client.telegramId}`);
    update((items) => items.filter((c) => c.telegramId !== client.telegramId));
  }

  return (
    <>
      <ScreenHeader title={t.tabs.clients} />
      <ul className="cards" aria-label={t.tabs.clients}>
        {list.items.map((c) => {
          const name = personName(c);
          const sub = c.subscription;
          return (
            <li
              key={c.telegramId}
              className={`card${fresh.has(c.telegramId) ? ' card-fresh' : ''}`}
              data-client-id={c.telegramId}
            >
              <div className="card-head">
                <h3>
                  {name}
                  {c.username && <span className="hint"> @{c.username}</span>}
                </h3>
                {fresh.has(c.telegramId) && <Badge tone="warn">{t.justAdded}</Badge>}
                {!c.reachable && <Badge tone="bad">{t.unreachable}</Badge>}
              </div>
              <p>
                <span className="label-inline">{t.subscription}: </span>
                {sub ? (
                  <>
                    <Badge tone={TONE[sub.status]}>{t.subStatus[sub.status] ?? sub.status}</Badge>{' '}
                    {sub.planTitle}
                    {sub.currentPeriodEnd && ` · ${t.periodEnd(formatDate(sub.currentPeriodEnd, language))}`}
                    {sub.renews && sub.status === 'active' && ` · ${t.renews}`}
                  </>
                ) : (
                  <span className="hint">{t.noSubscription}</span>
                )}
              </p>
              <p className="hint">{t.clientSince(formatDate(c.createdAt, language))}</p>
              <div className="row actions">
                <ConfirmButton
                  label={t.remove}
                  className="danger"
                  question={t.confirmRemove(name)}
                  onConfirm={() => remove(c)}
                />
              </div>
            </li>
          );
        })}
      </ul>
      <ListFooter list={list} empty={t.noClients} />
    </>
  );
}
