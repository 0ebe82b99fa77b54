/** A deadline passed; `ms` is the deadline that was given. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
  readonly ms: number;
  constructor(ms: number, message = `did not finish within ${ms} ms`) {
    super(message);
    this.ms = ms;
  }
}

/**
 * The one way to bound a wait. `work` gets an AbortSignal that fires at the deadline, so an HTTP
 * call can drop its request; at the deadline the result rejects with `onTimeout()` (a
 * TimeoutError by default). The timer never outlives the call, and a losing call that rejects
 * later is not an unhandled rejection.
 */
export async function withTimeout<T>(
  ms: number,
  work: Promise<T> | ((signal: AbortSignal) => Promise<T>),
  onTimeout: () => Error = () => new TimeoutError(ms),
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = onTimeout();
      controller.abort(error);
      reject(error);
    }, ms);
  });
  const call = typeof work === 'function' ? work(controller.signal) : work;
  call.catch(() => {});
  try {
    return await Promise.race([call, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for `work` to settle, but no longer than `ms`; true when it settled in time. */
export async function settledWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  return withTimeout(ms, work).then(
    () => true,
    (error) => !(error instanceof TimeoutError),
  );
}
