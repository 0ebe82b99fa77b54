import { createStarsApi, type StarsApi } from '../telegram/stars-api.ts';
import { invoiceKey } from './invoice-payload.ts';

/** One bot's Telegram Stars access: its Bot API methods and the key its invoice payloads are signed with. */
export interface StarsClient {
  api: StarsApi;
  invoiceKey: Buffer;
}

/** Tokens are few (one per coach); a map this large means rotations piled up, so it starts over. */
const MAX_CACHED_BOTS = 1_000;

/**
 * A Stars client per bot token, built on first use and kept (a rotated token gets a new entry, the
 * old one goes with the next reset). A test's `override` answers for every bot, while the invoice
 * key still comes from each bot's own token: a payload signed for one coach's bot never verifies
 * for another's.
 */
export function createStarsClients(options: {
  apiRoot: string;
  timeoutMs: number;
  override?: StarsApi;
}): (botToken: string) => StarsClient {
  const byToken = new Map<string, StarsClient>();
  return (botToken) => {
    let client = byToken.get(botToken);
    if (!client) {
      if (byToken.size >= MAX_CACHED_BOTS) byToken.clear();
      const { apiRoot, timeoutMs } = options;
      client = {
        api: options.override ?? createStarsApi({ botToken, apiRoot, timeoutMs }),
        invoiceKey: invoiceKey(botToken),
      };
      byToken.set(botToken, client);
    }
    return client;
  };
}
