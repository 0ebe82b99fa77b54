import { signInitData } from '../telegram/init-data.ts';

/**
 * Prints `tma <initData>` signed with TELEGRAM_BOT_TOKEN (or the local sandbox token), for trying
 * the API with curl. Options: --id <telegram id> --first-name <name> --lang <code>.
 */
const SANDBOX_TOKEN = '1000000001:AAFakeSandboxTokenForLocalDevelopment';
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 && args[index + 1] ? args[index + 1]! : fallback;
};
const token = process.env.TELEGRAM_BOT_TOKEN || SANDBOX_TOKEN;
const user = {
  id: Number(option('id', '100000001')),
  first_name: option('first-name', 'Alex'),
  language_code: option('lang', 'en'),
};
const initData = signInitData(
  { auth_date: String(Math.floor(Date.now() / 1000)), query_id: 'local-trial', user: JSON.stringify(user) },
  token,
);
process.stdout.write(`tma ${initData}\n`);
