/**
 * Errors a client may see. Each carries its HTTP status and a stable machine code; anything that
 * is not an AppError becomes a 500 (or 503 when a dependency is down) with no details leaked.
 */
export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;
  readonly code: string;
  readonly details?: unknown[];
  readonly headers?: Record<string, string>;
  constructor(
    status: number,
    code: string,
    message: string,
    details?: unknown[],
    headers?: Record<string, string>,
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.headers = headers;
  }
}

export class BadRequestError extends AppError {
  constructor(code: string, message: string, details?: unknown[]) {
    super(400, code, message, details);
  }
}

export class UnauthorizedError extends AppError {
  constructor(code: string, message: string) {
    super(401, code, message);
  }
}

export class ForbiddenError extends AppError {
  constructor(code: string, message: string) {
    super(403, code, message);
  }
}

export class NotFoundError extends AppError {
  constructor(code: string, message: string) {
    super(404, code, message);
  }
}

export class TooManyRequestsError extends AppError {
  constructor(code: string, message: string, retryAfterSeconds: number) {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    super(429, code, message, undefined, { 'Retry-After': String(seconds) });
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(code: string, message: string, retryAfterSeconds = 5) {
    super(503, code, message, undefined, { 'Retry-After': String(retryAfterSeconds) });
  }
}
