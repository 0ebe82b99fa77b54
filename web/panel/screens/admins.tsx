import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { ErrorBanner, Section, Spinner } from '../../shared/ui.tsx';
import { Badge, ConfirmButton, ScreenHeader } from '../components.tsx';
import { personName, usePanel } from '../context.ts';

interface Admin {
  telegramId: string;
  firstName: string;
  lastName: string | null;
  username: string | null;
  role: 'owner' | 'trainer' | 'support';
  configured: boolean;
}

const ROLES = ['owner', 'trainer', 'support'] as const;

function AdminRow({ admin, self, onChanged }: { admin: Admin; self: boolean; onChanged: () => void }) {
  const { api, t } = usePanel();
  const [role, setRole] = useState(admin.role);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);
  const name = personName(admin);
  const selectId = `role-${admin.telegramId}`;

  async function save() {
    setBusy(true);
    setError(undefined);
    setSaved(false);
    try {
      await api.send('PUT', `/api/panel/admins/${admin.telegramId}`, { role });
      setSaved(true);
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <li className="card">
      <div className="card-head">
        <h3>
          {name}
          {admin.username && <span className="hint"> @{admin.username}</span>}
          {self && <span className="hint"> ({t.you})</span>}
        </h3>
        <Badge tone={admin.role === 'owner' ? 'warn' : 'neutral'}>{t.roles[admin.role]}</Badge>
      </div>
      <p className="hint">
        {t.telegramId}: {admin.telegramId}
      </p>
      {admin.configured ? (
        <p className="hint">{t.configured}</p>
      ) : (
        <div className="row actions">
          <div className="inline-field">
            <label htmlFor={selectId}>{t.changeRole(name)}</label>
            <select id={selectId} value={role} onChange={(e) => setRole(e.target.value as Admin['role'])}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {t.roles[r]}
                </option>
              ))}
            </select>
          </div>
          <button type="button" className="secondary" disabled={busy || role === admin.role} onClick={save}>
            {t.save}
          </button>
          <ConfirmButton
            label={t.revoke}
            className="danger"
            question={t.confirmRevoke(name)}
            onConfirm={async () => {
              await api.send('DELETE', `/api/panel/admins/${admin.telegramId}`);
              onChanged();
            }}
          />
        </div>
      )}
      {saved && (
        <p className="hint" role="status">
          {t.roleSaved}
        </p>
      )}
      <ErrorBanner error={error} fallback={t.networkError} />
    </li>
  );
}

export function AdminsScreen() {
  const { api, t, session } = usePanel();
  const [admins, setAdmins] = useState<Admin[]>();
  const [error, setError] = useState<unknown>();
  const [telegramId, setTelegramId] = useState('');
  const [role, setRole] = useState<Admin['role']>('trainer');
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState<unknown>();

  const load = useCallback(() => {
    api
      .get<{ items: Admin[] }>('/api/panel/admins')
      .then((r) => {
        setError(undefined);
        setAdmins(r.items);
      })
      .catch(setError);
  }, [api]);
  useEffect(load, [load]);

  async function grant(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setFormError(undefined);
    try {
      await api.send('PUT', `/api/panel/admins/${telegramId.trim()}`, { role });
      setTelegramId('');
      load();
    } catch (e) {
      setFormError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <ScreenHeader title={t.tabs.admins} />
      <div className="two-columns">
        <Section title={t.adminsTitle} id="admins-list">
          <ErrorBanner error={error} fallback={t.networkError} />
          {!admins && !error && <Spinner label={t.loading} />}
          <ul className="cards">
            {admins?.map((admin) => (
              <AdminRow
                key={`${admin.telegramId}-${admin.role}`}
                admin={admin}
                self={admin.telegramId === session.user.telegramId}
                onChanged={load}
              />
            ))}
          </ul>
        </Section>
        <Section title={t.grantTitle} id="admin-grant">
          <form className="stack" onSubmit={grant}>
            <div>
              <label htmlFor="grant-telegram-id">{t.telegramId}</label>
              <input
                id="grant-telegram-id"
                inputMode="numeric"
                pattern="[0-9]{1,20}"
                required
                value={telegramId}
                aria-describedby="grant-telegram-id-hint"
                onChange={(e) => setTelegramId(e.target.value)}
              />
              <p id="grant-telegram-id-hint" className="hint">
                {t.telegramIdHint}
              </p>
            </div>
            <div>
              <label htmlFor="grant-role">{t.role}</label>
              <select id="grant-role" value={role} onChange={(e) => setRole(e.target.value as Admin['role'])}>
                {ROLES.map((r) => (
                  <option key={r} value={r}>
                    {t.roles[r]}
                  </option>
                ))}
              </select>
            </div>
            <ErrorBanner error={formError} fallback={t.networkError} />
            <div className="row">
              <button type="submit" disabled={busy}>
                {t.grant}
              </button>
            </div>
          </form>
        </Section>
      </div>
    </>
  );
}
