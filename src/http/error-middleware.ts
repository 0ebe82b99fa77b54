import { isDependencyDown, isTransientConflict } from '../db/dependency-errors.ts';
import { AppError } from '../domain/errors.ts';
import type { AppContext as Context, Next } from './request-state.ts';

const BODY_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  'entity.parse.failed': {
    status: 400,
    code: 'malformed_json',
    message: 'The request body is not valid JSON.',
  },
  'entity.too.large': { status: 413, code: 'payload_too_large', message: 'The request body is too large.' },
  'request.size.invalid': { status: 400, code: 'bad_request', message: 'The request body length is wrong.' },
  'encoding.unsupported': {
    status: 415,
    code: 'unsupported_encoding',
    message: 'Unsupported body encoding.',
  },
  'body.corrupt': {
    status: 400,
    code: 'malformed_body',
    message: 'The request body does not match its Content-Encoding.',
  },
};

/**
 * koa-body's errors carry a `type`, but two do not: `inflation` throws a bare Error (status 415)
 * for a Content-Encoding it cannot decode, and zlib reports a body that is not what its
 * Content-Encoding says (gzip that is not gzip) with its own codes.
 */
function bodyErrorType(error: unknown): string | undefined {
  const { type, status, code, message } = error as {
    type?: string;
    status?: number;
    code?: string;
    message?: string;
  };
  if (type) return type;
  // co-body reports invalid JSON as a bare SyntaxError with status 400 and no `type`.
  if (error instanceof SyntaxError && status === 400) return 'entity.parse.failed';
  if (status === 415 && message?.startsWith('Unsupported Content-Encoding')) return 'encoding.unsupported';
  if (
    code?.startsWith('Z_') ||
    code?.startsWith('ERR__ERROR_FORMAT') ||
    code === 'ERR_BROTLI_DECOMPRESSION_FAILED'
  )
    return 'body.corrupt';
  return undefined;
}

/**
 * SQLSTATEs that mean "this value cannot be stored": NUL in text breaks the wire message (08P01) or
 * jsonb (22P05); a lone surrogate escape is invalid jsonb text (22P02); bad encoding (22021); too
 * long for a column (22001); a timestamp out of range (22008); a number out of range (22003).
 */
const INPUT_SQL_STATES: Record<string, { code: string; message: string }> = {
  '08P01': {
    code: 'invalid_text',
    message: 'The request contains text that cannot be stored (e.g. NUL characters).',
  },
  '22P05': {
    code: 'invalid_text',
    message: 'The request contains text that cannot be stored (e.g. NUL characters).',
  },
  '22P02': {
    code: 'invalid_text',
    message: 'The request contains text that cannot be stored (e.g. lone surrogates).',
  },
  '22021': { code: 'invalid_text', message: 'The request contains text that is not valid UTF-8.' },
  '22001': { code: 'invalid_text', message: 'A text in the request is too long.' },
  '22008': { code: 'invalid_value', message: 'A date or time in the request is out of range.' },
  '22003': { code: 'invalid_value', message: 'A number in the request is out of range.' },
};

function send(ctx: Context, status: number, code: string, message: string, details?: unknown[]) {
  ctx.status = status;
  ctx.body = { error: { code, message, ...(details?.length ? { details } : {}) } };
}

/**
 * The single place that turns errors into the JSON error contract. Known errors keep their status;
 * everything else is logged with the request id and answered without internals.
 */
export async function errorMiddleware(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
    if (ctx.status === 404 && ctx.body === undefined) {
      send(ctx, 404, 'not_found', 'No such endpoint.');
    } else if (ctx.status === 501 && (ctx.body === undefined || typeof ctx.body === 'string')) {
      // @koa/router's answer to a method no route knows (PROPFIND, TRACE): JSON like every error.
      send(ctx, 501, 'method_not_implemented', 'This method is not supported.');
    } else if (ctx.status === 405 && (ctx.body === undefined || typeof ctx.body === 'string')) {
      send(
        ctx,
        405,
        'method_not_allowed',
        `Use ${ctx.response.get('Allow') || 'another method'} on this endpoint.`,
      );
    }
  } catch (error) {
    if (error instanceof AppError) {
      for (const [name, value] of Object.entries(error.headers ?? {})) ctx.set(name, value);
      send(ctx, error.status, error.code, error.message, error.details);
      return;
    }
    const type = bodyErrorType(error);
    const bodyError = type ? BODY_ERRORS[type] : undefined;
    if (bodyError) {
      send(ctx, bodyError.status, bodyError.code, bodyError.message);
      return;
    }
    // Input PostgreSQL refuses: validation should have caught it, but if anything still reaches the
    // database it is the request that is bad, not the server.
    const sqlState = (error as { code?: string }).code;
    const inputError = sqlState ? INPUT_SQL_STATES[sqlState] : undefined;
    if (inputError) {
      ctx.state.log?.warn({ event: 'input_reached_database', sqlState }, 'bad input refused by PostgreSQL');
      send(ctx, 400, inputError.code, inputError.message);
      return;
    }
    if (isTransientConflict(error)) {
      ctx.state.log?.warn({ event: 'transient_conflict', err: error }, 'transaction lost a conflict');
      ctx.set('Retry-After', '1');
      send(ctx, 503, 'try_again', 'The request collided with another one; please retry.');
      return;
    }
    if (isDependencyDown(error)) {
      ctx.state.log?.warn({ err: error }, 'dependency unavailable');
      ctx.set('Retry-After', '5');
      send(ctx, 503, 'service_unavailable', 'A service we depend on is unavailable; please retry shortly.');
      return;
    }
    const status = (error as { status?: number; expose?: boolean }).status;
    if (status && status >= 400 && status < 500 && (error as { expose?: boolean }).expose) {
      send(ctx, status, 'bad_request', (error as Error).message);
      return;
    }
    ctx.state.log?.error({ err: error }, 'unhandled error');
    send(ctx, 500, 'internal_error', 'Something went wrong on our side.');
  }
}
