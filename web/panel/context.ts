import { createContext, useContext } from 'react';
import type { ApiClient } from '../shared/api.ts';
import type { Language } from '../shared/i18n.ts';
import type { Texts } from './texts.ts';
import type { LiveSocket } from './use-live.ts';

export type Permission = 'view_applications' | 'manage_clients' | 'view_revenue' | 'manage_admins';

/** Who is using the panel, as GET /api/panel/session answered. */
export interface PanelSession {
  user: { telegramId: string; firstName: string; lastName?: string; username?: string };
  role: 'owner' | 'trainer' | 'support';
  permissions: string[];
  via: 'initData' | 'session';
}

export interface Panel {
  api: ApiClient;
  t: Texts;
  language: Language;
  session: PanelSession;
  live: LiveSocket;
  can(permission: Permission): boolean;
}

export const PanelContext = createContext<Panel | undefined>(undefined);

export function usePanel(): Panel {
  const panel = useContext(PanelContext);
  if (!panel) throw new Error('usePanel outside the panel');
  return panel;
}

/** "Anna Smith @anna" or the Telegram id when the profile has no name. */
export function personName(
  user: { firstName?: string; lastName?: string | null; username?: string | null; telegramId: string } | null,
): string {
  if (!user) return '—';
  const name = [user.firstName, user.lastName].filter(Boolean).join(' ');
  return name || (user.username ? `@${user.username}` : user.telegramId);
}
