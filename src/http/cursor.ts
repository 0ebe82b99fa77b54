import { z } from 'zod';
import type { KeysetPosition } from '../domain/keyset.ts';

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;

/** Rows are never older than this; a cursor claiming so was not made by us. */
const EARLIEST = Date.UTC(2000, 0, 1);
const LATEST = Date.UTC(9999, 11, 31);

/** Opaque to clients: base64url of the JSON `[createdAtISO, id]` of the page's last row. */
export function encodeCursor(position: KeysetPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.id])).toString('base64url');
}

const positionSchema = z.tuple([z.iso.datetime(), z.uuid()]);

/**
 * Decodes and fully validates a cursor, or returns undefined. The timestamp must be one
 * `toISOString` could have written and inside the range rows can have: `0000-01-01` parses in
 * JavaScript but PostgreSQL refuses it, which was a 500.
 */
export function decodeCursor(value: string): KeysetPosition | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(value)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const result = positionSchema.safeParse(parsed);
  if (!result.success) return undefined;
  const createdAt = new Date(result.data[0]);
  const time = createdAt.getTime();
  if (Number.isNaN(time) || time < EARLIEST || time > LATEST) return undefined;
  if (createdAt.toISOString() !== result.data[0]) return undefined;
  return { createdAt, id: result.data[1] };
}

const cursorSchema = z
  .string()
  .meta({ description: 'The `nextCursor` of the previous page, unchanged.' })
  .transform((value, ctx) => {
    const position = decodeCursor(value);
    if (!position) {
      ctx.addIssue({ code: 'custom', message: 'not a cursor this API returned; start from the first page' });
      return z.NEVER;
    }
    return position;
  });

const limitSchema = z
  .string()
  .regex(/^\d{1,4}$/, `must be an integer from 1 to ${MAX_PAGE_LIMIT}`)
  .transform(Number)
  .pipe(
    z.number().int().min(1, 'must be at least 1').max(MAX_PAGE_LIMIT, `must be at most ${MAX_PAGE_LIMIT}`),
  )
  .meta({ description: `Page size, 1–${MAX_PAGE_LIMIT} (default ${DEFAULT_PAGE_LIMIT}).` });

/** `limit` and `cursor` of every keyset-paged list; a repeated parameter is ambiguous and refused. */
export const pageQueryShape = {
  limit: limitSchema.optional().transform((limit) => limit ?? DEFAULT_PAGE_LIMIT),
  cursor: cursorSchema.optional(),
};

export const pageQuerySchema = z.object(pageQueryShape);

/** The response of every paged list. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

export function pageBody<T>(items: T[], next: KeysetPosition | null) {
  return { items, nextCursor: next ? encodeCursor(next) : null };
}
