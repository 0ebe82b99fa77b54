import { useEffect, useMemo, useRef, useState } from 'react';
import { pageTenant } from '../shared/tenant.ts';

/** An event pushed by GET /api/panel/ws (docs/panel-live-updates.md), or `ready` after each (re)connect. */
export type LiveEvent =
  | { type: 'ready' }
  | {
      type: 'application.created';
      applicationId: string;
      userId: string;
      telegramId: string;
      createdAt: string;
    }
  | { type: 'plan.status'; planId: string; userId: string; status: string }
  | { type: 'client.added'; userId: string; telegramId: string }
  | { type: 'client.removed'; userId: string; telegramId: string }
  | {
      type: 'broadcast.progress';
      broadcastId: string;
      total: number;
      sent: number;
      failed: number;
      pending: number;
    };

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'off';

export interface LiveSocket {
  status: LiveStatus;
  /** Called with every event; `ready` means "refetch what you show" (events may have been missed). */
  subscribe(listener: (event: LiveEvent) => void): () => void;
}

const MIN_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;

/**
 * One socket for the whole panel. Reconnects with exponential backoff (with jitter, so a server
 * restart is not met by every panel at the same moment); stops for good on 4403 (no role) and
 * reports 4401 (credentials no longer good) through `onAuthLost`. Any 4403 (`access_changed`: the
 * role was changed or revoked; `not_an_admin`: no role any more) is reported through
 * `onAccessChanged`, so the page asks again who the user is and rebuilds what it offers.
 */
export function useLiveSocket(
  auth: { initData: string } | { session: true },
  onAuthLost: () => void,
  onAccessChanged: () => void,
): LiveSocket {
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const listeners = useRef(new Set<(event: LiveEvent) => void>());
  const authLost = useRef(onAuthLost);
  authLost.current = onAuthLost;
  const accessChanged = useRef(onAccessChanged);
  accessChanged.current = onAccessChanged;
  // The coach of this page (/panel/<slug>/); the default tenant's page names none.
  const tenant = pageTenant();
  const authMessage = JSON.stringify({ type: 'auth', ...auth, ...(tenant ? { tenant } : {}) });

  useEffect(() => {
    let socket: WebSocket | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    let stopped = false;
    const url = `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/api/panel/ws`;

    const connect = () => {
      if (stopped) return;
      const ws = new WebSocket(url);
      socket = ws;
      ws.onopen = () => ws.send(authMessage);
      ws.onmessage = (message) => {
        let event: LiveEvent;
        try {
          event = JSON.parse(String(message.data)) as LiveEvent;
        } catch {
          return;
        }
        if (event.type === 'ready') {
          attempt = 0;
          setStatus('live');
        }
        for (const listener of listeners.current) listener(event);
      };
      ws.onclose = (close) => {
        if (stopped || socket !== ws) return;
        if (close.code === 4403) accessChanged.current();
        if (close.code === 4403 && close.reason !== 'access_changed') {
          setStatus('off');
          return;
        }
        if (close.code === 4401 && close.reason !== 'auth_timeout') {
          setStatus('off');
          authLost.current();
          return;
        }
        setStatus('reconnecting');
        const delay = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** attempt) * (0.75 + Math.random() / 2);
        attempt += 1;
        timer = setTimeout(connect, delay);
      };
    };
    connect();
    // A phone that wakes up or gets its network back should not wait out a long backoff.
    const soon = () => {
      if (socket?.readyState === WebSocket.CLOSED && timer !== undefined) {
        clearTimeout(timer);
        attempt = 0;
        connect();
      }
    };
    window.addEventListener('online', soon);
    return () => {
      stopped = true;
      window.removeEventListener('online', soon);
      clearTimeout(timer);
      socket?.close(1000);
    };
  }, [authMessage]);

  return useMemo(
    () => ({
      status,
      subscribe(listener) {
        listeners.current.add(listener);
        return () => listeners.current.delete(listener);
      },
    }),
    [status],
  );
}
