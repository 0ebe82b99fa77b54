import type { Context } from 'koa';
import { z } from 'zod';
import { BadRequestError } from '../domain/errors.ts';
import type { KeysetPosition } from '../domain/keyset.ts';

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;

const positionSchema = z.tuple([z.iso.datetime(), z.uuid()]);

/** Opaque to clients: base64url of the JSON `[createdAtISO, id]` of the page's last row. */
export function encodeCursor(position: KeysetPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.id])).toString('base64url');
}

function invalidCursor(): BadRequestError {
  return new BadRequestError(
    'invalid_cursor',
    'The cursor is not one this API returned; start from the first page.',
  );
}

export function decodeCursor(value: string): KeysetPosition {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(value)) throw invalidCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  const result = positionSchema.safeParse(parsed);
  if (!result.success) throw invalidCursor();
  const createdAt = new Date(result.data[0]);
  if (Number.isNaN(createdAt.getTime())) throw invalidCursor();
  return { createdAt, id: result.data[1] };
}

/** A query parameter given once, or undefined; repeated parameters are ambiguous and refused. */
export function singleQueryValue(ctx: Context, name: string): string | undefined {
  const value = ctx.query[name];
  if (Array.isArray(value)) throw new BadRequestError(`invalid_${name}`, `Give "${name}" at most once.`);
  return value === undefined || value === '' ? undefined : value;
}

/** `limit` (1..100, default 20) and `cursor` from the query string; bad values are 400. */
export function pageQuery(ctx: Context): { limit: number; after: KeysetPosition | undefined } {
  const rawLimit = singleQueryValue(ctx, 'limit');
  let limit = DEFAULT_PAGE_LIMIT;
  if (rawLimit !== undefined) {
    limit = /^\d{1,4}$/.test(rawLimit) ? Number(rawLimit) : 0;
    if (limit < 1 || limit > MAX_PAGE_LIMIT) {
      throw new BadRequestError('invalid_limit', `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}.`);
    }
  }
  const rawCursor = singleQueryValue(ctx, 'cursor');
  return { limit, after: rawCursor === undefined ? undefined : decodeCursor(rawCursor) };
}

export function pageBody<T>(items: T[], next: KeysetPosition | null) {
  return { items, nextCursor: next ? encodeCursor(next) : null };
}
