import type { Context } from 'koa';
import type { z } from 'zod';
import { AppError, BadRequestError } from '../domain/errors.ts';

/** Validates a JSON body; every problem is listed in `details` with its path, so clients can show it. */
export function parseBody<T>(ctx: Context, schema: z.ZodType<T>): T {
  if (!ctx.is('application/json')) {
    throw new AppError(415, 'unsupported_media_type', 'Send the body as application/json.');
  }
  // The body was read as UTF-8 (JSON's only encoding, RFC 8259); a client that says otherwise
  // would have its text silently garbled, so it is refused instead.
  const charset = ctx.request.charset.toLowerCase();
  if (charset && charset !== 'utf-8' && charset !== 'utf8') {
    throw new AppError(415, 'unsupported_charset', 'Send the JSON body in UTF-8.');
  }
  const result = schema.safeParse(ctx.request.body);
  if (!result.success) {
    throw new BadRequestError(
      'validation_failed',
      'The request body is invalid.',
      result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    );
  }
  return result.data;
}
