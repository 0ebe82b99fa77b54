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
  /**
   * Fetches the first page again and puts rows not shown yet on top (new rows arrive newest first).
   * With `expect`, a row the caller was told about (a live event) that is not on the fresh page yet
   * is asked for once more after a second: the lists read from a replica, which may lag the event.
   */
  refreshHead(expect?: string): Promise<T[]>;
  /**
   * Finds a row by key anywhere in the list (following the cursor, at most `FIND_PAGES` big pages)
   * and shows it on top if it is not shown yet. For rows that do not sort to the first page, such
   * as a long-registered user who has just become a client. Resolves with the row, if found.
   */
  reveal(key: string): Promise<T | undefined>;
  update(change: (items: T[]) => T[]): void;
}

/** How long a replica may plausibly lag behind the event that told us about a row. */
export const REPLICA_LAG_MS = 1_000;
const FIND_LIMIT = 100;
const FIND_PAGES = 10;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
    (after: string | null, size = limit) => {
      const sep = path.includes('?') ? '&' : '?';
      return `${path}${sep}limit=${size}${after ? `&cursor=${encodeURIComponent(after)}` : ''}`;
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

  const refreshHead = useCallback(
    async (expect?: string) => {
      const forPath = path;
      let page = await api.get<Page<T>>(url(null));
      if (expect !== undefined && !page.items.some((item) => keyRef.current(item) === expect)) {
        await sleep(REPLICA_LAG_MS);
        page = await api.get<Page<T>>(url(null));
      }
      if (current.current !== forPath) return [];
      const old = itemsRef.current;
      const seen = new Set(old.map(keyRef.current));
      const added = page.items.filter((item) => !seen.has(keyRef.current(item)));
      if (added.length > 0 && added.length === page.items.length && page.nextCursor !== null) {
        // Not one row of the fresh first page is shown, and there is more after it: more rows
        // arrived (while the socket was down) than one page holds. Merging would leave a hole
        // between this page and the old rows, and "Load more" would go on from the old cursor,
        // past the hole. Start over from this page and its cursor instead.
        itemsRef.current = page.items;
        setItems(page.items);
        setCursor(page.nextCursor);
        return added;
      }
      const fresh = new Map(page.items.map((item) => [keyRef.current(item), item]));
      // Rows already shown take their newest state from the fresh page.
      const merged = [...added, ...old.map((item) => fresh.get(keyRef.current(item)) ?? item)];
      itemsRef.current = merged;
      setItems(merged);
      return added;
    },
    [api, url, path],
  );

  const reveal = useCallback(
    async (key: string) => {
      const forPath = path;
      const shown = itemsRef.current.find((item) => keyRef.current(item) === key);
      if (shown) return shown;
      let after: string | null = null;
      for (let n = 0; n < FIND_PAGES; n++) {
        const page: Page<T> = await api.get<Page<T>>(url(after, FIND_LIMIT));
        const found = page.items.find((item) => keyRef.current(item) === key);
        if (found) {
          if (current.current !== forPath) return undefined;
          // On top, where the user looks; "Load more" skips it later (rows are deduplicated by key).
          if (!itemsRef.current.some((item) => keyRef.current(item) === key)) {
            itemsRef.current = [found, ...itemsRef.current];
            setItems(itemsRef.current);
          }
          return found;
        }
        if (!page.nextCursor) return undefined;
        after = page.nextCursor;
      }
      return undefined;
    },
    [api, url, path],
  );

  return {
    items,
    loading,
    error,
    hasMore: cursor !== null,
    loadMore,
    reload: () => setGeneration((g) => g + 1),
    refreshHead,
    reveal,
    update: setItems,
  };
}
