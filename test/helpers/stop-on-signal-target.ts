// A minimal process for the stopOnSignal tests: one stoppable whose stop() finishes only when the
// test writes a line to stdin, so the test, not a timer, decides how long the drain lasts.
import { createLogger } from '../../src/config/logger.ts';
import { stopOnSignal } from '../../src/processes/run-until-signal.ts';

const logger = createLogger('debug');
const finished = new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
stopOnSignal(
  [
    {
      async stop() {
        logger.info('stop begun');
        await finished;
        logger.info('stop finished');
      },
    },
  ],
  logger,
  60_000,
);
logger.info('ready');
