import { useState } from 'react';
import type { ApiClient } from '../shared/api.ts';
import type { Page } from './api-types.ts';
import { useLoad } from './hooks.ts';

export const PAGE_SIZE = 20;

/**
 * A keyset-paged list of the API (`?limit=&cursor=`): the first page loads at once, "Show more"
 * appends the next one with the cursor the previous page gave. `prepend` puts a just-created item
 * on top without reloading (it is the newest; the cursors of later pages stay valid).
 */
export function useKeysetList<T>(api: ApiClient, path: string) {
  const first = useLoad(() => api.get<Page<T>>(`${path}?limit=${PAGE_SIZE}`), path);
  const [added, setAdded] = useState<T[]>([]);
  const [more, setMore] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<unknown>(undefined);
  const next = cursor === undefined ? first.data?.nextCursor : cursor;

  async function loadMore() {
    if (!next || loadingMore) return;
    setLoadingMore(true);
    setMoreError(undefined);
    try {
      const page = await api.get<Page<T>>(`${path}?limit=${PAGE_SIZE}&cursor=${encodeURIComponent(next)}`);
      setMore((previous) => [...previous, ...page.items]);
      setCursor(page.nextCursor);
    } catch (caught) {
      setMoreError(caught);
    } finally {
      setLoadingMore(false);
    }
  }

  return {
    items: [...added, ...(first.data?.items ?? []), ...more],
    loaded: first.data !== undefined,
    loading: first.loading,
    error: first.error,
    hasMore: Boolean(next),
    loadingMore,
    moreError,
    loadMore,
    prepend: (item: T) => setAdded((previous) => [item, ...previous]),
  };
}
