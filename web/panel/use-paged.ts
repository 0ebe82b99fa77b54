import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiClient } from '../shared/api.ts';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PagedList<T> {
  items: T[];
  loading: boolean;
  error: unknown;
  hasMore: boolean;
  loadMore(): void;
  reload(): void;
  /** Fetches the first page again and puts rows not shown yet on top (new rows arrive newest first). */
  refreshHead(): Promise<T[]>;
  update(change: (items: T[]) => T[]): void;
}

/**
 * A list paged with the API's keyset cursor ("Load more" appends the next page). `path` already
 * carries any filter; the cursor and limit are added here.
 */
export function usePagedList<T>(
  api: ApiClient,
  path: string,
  keyOf: (item: T) => string,
  limit = 20,
): PagedList<T> {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>();
  const [generation, setGeneration] = useState(0);
  // Answers for an older path (the filter changed meanwhile) are dropped.
  const current = useRef(path);
  current.current = path;
  const keyRef = useRef(keyOf);
  const itemsRef = useRef(items);
  itemsRef.current = items;
  keyRef.current = keyOf;

  const url = useCallback(
    (after: string | null) => {
      const sep = path.includes('?') ? '&' : '?';
      return `${path}${sep}limit=${limit}${after ? `&cursor=${encodeURIComponent(after)}` : ''}`;
    },
    [path, limit],
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: generation forces a reload
  useEffect(() => {
    let cancelled = false;
    setLoading(true);
    setError(undefined);
    setItems([]);
    api
      .get<Page<T>>(url(null))
      .then((page) => {
        if (cancelled) return;
        setItems(page.items);
        setCursor(page.nextCursor);
      })
      .catch((e: unknown) => !cancelled && setError(e))
      .finally(() => !cancelled && setLoading(false));
    return () => {
      cancelled = true;
    };
  }, [api, url, generation]);

  const loadMore = useCallback(() => {
    if (!cursor) return;
    const forPath = path;
    setLoading(true);
    setError(undefined);
    api
      .get<Page<T>>(url(cursor))
      .then((page) => {
        if (current.current !== forPath) return;
        setItems((old) => {
          const seen = new Set(old.map(keyRef.current));
          return [...old, ...page.items.filter((item) => !seen.has(keyRef.current(item)))];
        });
        setCursor(page.nextCursor);
      })
      .catch(setError)
      .finally(() => setLoading(false));
  }, [api, url, cursor, path]);

  const refreshHead = useCallback(async () => {
    const forPath = path;
    const page = await api.get<Page<T>>(url(null));
    if (current.current !== forPath) return [];
    const old = itemsRef.current;
    const fresh = new Map(page.items.map((item) => [keyRef.current(item), item]));
    const seen = new Set(old.map(keyRef.current));
    const added = page.items.filter((item) => !seen.has(keyRef.current(item)));
    // Rows already shown take their newest state from the fresh page.
    const merged = [...added, ...old.map((item) => fresh.get(keyRef.current(item)) ?? item)];
    itemsRef.current = merged;
    setItems(merged);
    return added;
  }, [api, url, path]);

  return {
    items,
    loading,
    error,
    hasMore: cursor !== null,
    loadMore,
    reload: () => setGeneration((g) => g + 1),
    refreshHead,
    update: setItems,
  };
}
