import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Paths that may carry credentials. pino censors them wherever they appear in a log object,
 * so a careless `log.info({ req })` cannot leak a bot token, a secret or raw initData.
 */
const REDACT_PATHS = [
  'authorization',
  'initData',
  'botToken',
  'token',
  'secret',
  'apiKey',
  '*.authorization',
  '*.initData',
  '*.botToken',
  '*.token',
  '*.secret',
  '*.apiKey',
  'headers.authorization',
  'headers["x-bot-api-secret"]',
  'headers["x-telegram-bot-api-secret-token"]',
  'req.headers.authorization',
  'req.headers["x-bot-api-secret"]',
  'req.headers["x-telegram-bot-api-secret-token"]',
];

/**
 * Writes to stdout synchronously by default. pino's asynchronous default hands each line to the
 * thread pool, and a line still queued there when the process exits is lost: the "worker stopped"
 * line of a clean drain, or the last lines before a crash, which are the ones an operator needs.
 */
export function createLogger(
  level: string,
  destination: pino.DestinationStream = pino.destination({ dest: 1, sync: true }),
): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
