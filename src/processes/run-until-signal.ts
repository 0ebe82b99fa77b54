import type { Logger } from '../config/logger.ts';

export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * How long after the signal that started a shutdown another signal is taken as a copy of that one
 * rather than an operator's second signal. `npm run` forwards SIGTERM and SIGINT to its child, so a
 * signal sent to the whole process group (what Heroku-style platforms send a dyno, and what Ctrl-C
 * sends in a terminal) reaches node twice: once directly and, a few milliseconds later, from npm.
 * Taking the copy as a second signal would exit without draining. A person who means "exit now"
 * sends again after more than a second.
 */
export const DUPLICATE_SIGNAL_WINDOW_MS = 1_000;

/**
 * SIGTERM/SIGINT → stop() once, bounded by timeoutMs. Another signal within
 * DUPLICATE_SIGNAL_WINDOW_MS of the first is a copy of it and is ignored; a signal after that, or
 * the deadline, exits at once. Exit code 0 for a clean drain, 1 otherwise. Install it before
 * start() and pass the start promise: a signal during boot (a deploy rolled back at once) then
 * waits for the start to finish and drains, instead of killing a process that may already hold
 * jobs.
 */
export function stopOnSignal(
  stoppables: Stoppable[],
  logger: Logger,
  timeoutMs: number,
  starting?: Promise<unknown>,
): void {
  // When the first signal arrived (monotonic clock); undefined until then.
  let firstAt: number | undefined;
  let firstSignal: NodeJS.Signals | undefined;
  const handler = (signal: NodeJS.Signals) => {
    if (firstAt !== undefined) {
      const sinceFirstMs = Math.round(performance.now() - firstAt);
      if (sinceFirstMs <= DUPLICATE_SIGNAL_WINDOW_MS) {
        // Ignored whichever signal it is: within the window it is far likelier a relayed copy
        // (npm, a process manager) than a person, who can send again a second later.
        logger.info(
          { signal, firstSignal, sinceFirstMs, windowMs: DUPLICATE_SIGNAL_WINDOW_MS },
          'duplicate signal; still draining',
        );
        return;
      }
      logger.warn({ signal, firstSignal, sinceFirstMs }, 'second signal; exiting now');
      process.exit(1);
    }
    firstAt = performance.now();
    firstSignal = signal;
    logger.info({ signal, timeoutMs }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error('shutdown deadline passed; exiting');
      process.exit(1);
    }, timeoutMs);
    deadline.unref();
    (async () => {
      // A failed start exits through the boot error path instead.
      await starting?.catch(() => new Promise(() => {}));
      let clean = true;
      // Stop in reverse start order: the front door closes before what it depends on.
      for (const stoppable of [...stoppables].reverse()) {
        try {
          await stoppable.stop();
        } catch (error) {
          clean = false;
          logger.error({ err: error }, 'error while stopping');
        }
      }
      process.exit(clean ? 0 : 1);
    })();
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

/** Prints one line for a boot failure (config, missing dependency) and exits non-zero. */
export function exitOnBootError(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`Cannot start: ${message}\n`);
  process.exit(1);
}
