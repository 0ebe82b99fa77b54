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

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
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
