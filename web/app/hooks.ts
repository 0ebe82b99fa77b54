import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, isRetryable } from '../shared/api.ts';

/** Loads once (and again on reload()); the last answer wins when loads overlap. */
/** `key` names what the data depends on (a plan id): a new key loads again. */
export function useLoad<T>(load: () => Promise<T>, key = '') {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const latest = useRef(load);
  latest.current = load;
  const reload = useCallback(async () => {
    const mine = ++generation.current;
    setLoading(true);
    try {
      const value = await latest.current();
      if (mine === generation.current) {
        setData(value);
        setError(undefined);
      }
    } catch (caught) {
      if (mine === generation.current) setError(caught);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, []);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` is what makes a new load necessary.
  useEffect(() => {
    void reload();
  }, [reload, key]);
  return { data, error, loading, reload, setData };
}

/** The longest pause between polls while the server keeps failing (5xx or no connection). */
export const MAX_BACKOFF_MS = 30_000;

export interface PollOptions {
  /** From when "taking longer than usual" is counted (e.g. the plan's createdAt); default: now. */
  since?: number;
  /** After this long `overdue` turns true and the interval becomes `overdueMs`. */
  overdueAfterMs?: number;
  overdueMs?: number;
}

export interface PollState {
  /** A 4xx answer that stopped the polling: asking again would get the same answer. */
  stoppedBy: ApiError | undefined;
  /** The wait has passed `overdueAfterMs`: the screen says so and polls slowly. */
  overdue: boolean;
}

/**
 * Calls `tick` every `ms` while `active`; a tick that is still running is not overlapped. A 4xx
 * answer stops the polling (PollState.stoppedBy); a 5xx or lost connection doubles the pause up to
 * MAX_BACKOFF_MS, so a struggling server is not hammered, and the next success restores `ms`.
 */
export function usePoll(
  tick: () => Promise<unknown>,
  ms: number,
  active: boolean,
  options: PollOptions = {},
): PollState {
  const latest = useRef(tick);
  latest.current = tick;
  const [stoppedBy, setStoppedBy] = useState<ApiError | undefined>(undefined);
  const [overdue, setOverdue] = useState(false);
  const { since, overdueAfterMs, overdueMs } = options;
  useEffect(() => {
    if (!active) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    let failures = 0;
    const started = Math.min(since ?? Date.now(), Date.now());
    const isOverdue = () => overdueAfterMs !== undefined && Date.now() - started >= overdueAfterMs;
    setStoppedBy(undefined);
    setOverdue(isOverdue());
    const nextDelay = () => {
      const base = isOverdue() ? Math.max(ms, overdueMs ?? ms) : ms;
      return failures === 0 ? base : Math.min(base * 2 ** failures, Math.max(MAX_BACKOFF_MS, base));
    };
    const run = async () => {
      try {
        await latest.current();
        failures = 0;
      } catch (error) {
        if (error instanceof ApiError && !isRetryable(error)) {
          if (!stopped) setStoppedBy(error);
          return;
        }
        failures += 1;
      }
      if (stopped) return;
      setOverdue(isOverdue());
      timer = setTimeout(run, nextDelay());
    };
    timer = setTimeout(run, nextDelay());
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [ms, active, since, overdueAfterMs, overdueMs]);
  return { stoppedBy: active ? stoppedBy : undefined, overdue: active && overdue };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
