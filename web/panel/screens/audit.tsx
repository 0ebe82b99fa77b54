import { formatDate } from '../../shared/i18n.ts';
import { ListFooter, ScreenHeader } from '../components.tsx';
import { usePanel } from '../context.ts';
import { usePagedList } from '../use-paged.ts';

interface AuditEntry {
  id: string;
  action: string;
  actor: { telegramId: string; firstName: string } | null;
  targetType: string;
  targetId: string | null;
  details: Record<string, unknown> | null;
  createdAt: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The readable part of an entry's details (one level of nesting): internal row ids say nothing to a coach. */
function detailsText(details: AuditEntry['details']): string {
  if (!details) return '';
  const pairs: string[] = [];
  const add = (key: string, value: unknown) => {
    if (value === null || value === undefined || UUID.test(String(value))) return;
    if (typeof value !== 'object') pairs.push(`${key}: ${String(value)}`);
  };
  for (const [key, value] of Object.entries(details)) {
    if (value && typeof value === 'object' && !Array.isArray(value))
      for (const [inner, innerValue] of Object.entries(value)) add(inner, innerValue);
    else add(key, value);
  }
  return pairs.join(', ');
}

export function AuditScreen() {
  const { api, t, language } = usePanel();
  const list = usePagedList<AuditEntry>(api, '/api/panel/audit-log', (e) => e.id, 30);
  return (
    <>
      <ScreenHeader title={t.tabs.audit} />
      <ul className="cards audit" aria-label={t.tabs.audit}>
        {list.items.map((entry) => (
          <li key={entry.id} className="card">
            <p>
              <strong>{entry.actor ? entry.actor.firstName || entry.actor.telegramId : t.system}</strong>{' '}
              {t.actions[entry.action] ?? entry.action}
            </p>
            <p className="hint">
              <time dateTime={entry.createdAt}>{formatDate(entry.createdAt, language, true)}</time>
              {' · '}
              {entry.targetType}
              {entry.targetId && !UUID.test(entry.targetId) ? ` ${entry.targetId}` : ''}
            </p>
            {detailsText(entry.details) && <p className="hint details">{detailsText(entry.details)}</p>}
          </li>
        ))}
      </ul>
      <ListFooter list={list} empty={t.noAudit} />
    </>
  );
}
