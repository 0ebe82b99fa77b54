import { raw } from '@mikro-orm/postgresql';

/** Where a newest-first page stopped: the (created_at, id) of its last row. */
export interface KeysetPosition {
  createdAt: Date;
  id: string;
}

export interface Page<T> {
  items: T[];
  /** Null on the last page. */
  next: KeysetPosition | null;
}

/**
 * Rows strictly older than `position` in (created_at desc, id desc) order. A row comparison, not
 * OFFSET: rows inserted while a client pages (always newer) cannot shift later pages, and PostgreSQL
 * walks the (tenant_id, created_at, id) index from the position.
 */
export function olderThan(position: KeysetPosition | undefined) {
  if (!position) return {};
  return {
    [raw(
      (alias: string) => `(${alias}.created_at, ${alias}.id) < (?, ?)`,
      [position.createdAt, position.id],
    )]: [],
  };
}

export const NEWEST_FIRST = { createdAt: 'desc', id: 'desc' } as const;

/** Callers fetch limit + 1 rows: the extra row only tells whether another page exists. */
export function toPage<T extends KeysetPosition>(rows: T[], limit: number): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    next: rows.length > limit && last ? { createdAt: last.createdAt, id: last.id } : null,
  };
}
