import { createContext, useContext } from 'react';
import type { ApiClient } from '../shared/api.ts';
import type { Language } from '../shared/i18n.ts';
import type { Me } from './api-types.ts';
import type { Texts } from './texts.ts';

/** The screens, as a stack: Telegram's back button pops it. */
export type Screen =
  | { name: 'home' }
  | { name: 'survey' }
  | { name: 'plan'; planId: string }
  | { name: 'plans' }
  | { name: 'checkins' }
  | { name: 'subscription' };

export interface Navigation {
  open(screen: Screen): void;
  /** Replaces the current screen (the survey becomes its plan's status). */
  replace(screen: Screen): void;
  back(): void;
  canGoBack: boolean;
}

export interface AppContextValue {
  api: ApiClient;
  t: Texts;
  language: Language;
  /** False in a plain browser with launch parameters: the page shows its own back button. */
  insideTelegram: boolean;
  me: Me;
  refreshMe(): Promise<Me>;
  nav: Navigation;
}

export const AppContext = createContext<AppContextValue | undefined>(undefined);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('useApp outside <AppContext>');
  return value;
}
