import { ErrorBanner } from '../shared/ui.tsx';
import { useApp } from './context.tsx';
import type { useKeysetList } from './paging.ts';

/** The end of a keyset-paged list: why the last page failed, and the button for the next one. */
export function ShowMore({
  list,
}: {
  list: Pick<ReturnType<typeof useKeysetList>, 'moreError' | 'hasMore' | 'loadingMore' | 'loadMore'>;
}) {
  const { t } = useApp();
  return (
    <>
      <ErrorBanner error={list.moreError} fallback={t.networkError} />
      {list.hasMore && (
        <button
          type="button"
          className="secondary"
          disabled={list.loadingMore}
          onClick={() => void list.loadMore()}
        >
          {t.showMore}
        </button>
      )}
    </>
  );
}
