import type { ExecutionContext } from 'ava';

/** Asserts a JSON error answer as clients see it: status, error code, a message, never a stack trace. */
export async function expectError(t: ExecutionContext, response: Response, status: number, code: string) {
  t.is(response.status, status);
  t.regex(response.headers.get('content-type') ?? '', /application\/json/);
  const body = await response.json();
  t.is(body.error.code, code);
  t.is(typeof body.error.message, 'string');
  t.false(JSON.stringify(body).includes('    at '), 'no stack trace');
  return body;
}
