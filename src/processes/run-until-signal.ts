import type { Logger } from '../config/logger.ts';

export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * SIGTERM/SIGINT → stop() once, bounded by timeoutMs; a second signal or the deadline exits at
 * once. Exit code 0 for a clean drain, 1 otherwise. Install it before start() and pass the start
 * promise: a signal during boot (a deploy rolled back at once) then waits for the start to finish
 * and drains, instead of killing a process that may already hold jobs.
 */
export function stopOnSignal(
  stoppables: Stoppable[],
  logger: Logger,
  timeoutMs: number,
  starting?: Promise<unknown>,
): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal; exiting now');
      process.exit(1);
    }
    stopping = true;
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
