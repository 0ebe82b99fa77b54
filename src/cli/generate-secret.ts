import { randomBytes } from 'node:crypto';

/**
 * Prints a new Bot API secret: 32 random bytes (256 bits) as base64url, which never contains a
 * comma, so it is safe inside the comma-separated TELEGRAM_BOT_API_SECRET. The secret goes to
 * stdout alone (`SECRET=$(npm run -s secret:generate)` captures just it); the hint goes to stderr.
 */
const secret = randomBytes(32).toString('base64url');
process.stdout.write(`${secret}\n`);
process.stderr.write(
  'Add it as TELEGRAM_BOT_API_SECRET=<current>,<new> on the web processes, deploy, switch the bot, then remove the old one (docs/bot-api.md).\n',
);
