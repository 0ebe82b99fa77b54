import { Telegram } from 'telegraf';
import { boundedBotApiCall, type TelegrafSignal, telegrafApiRoot } from './bot-api-call.ts';
import { TelegramNetworkError } from './telegram-errors.ts';

/**
 * The Bot API's Telegram Stars methods. telegraf 4.16 knows Bot API 7.1, which predates Stars
 * subscriptions, so these go through its raw `callApi` with our own types. Every call is bounded
 * (telegraf has no timeout) and its errors are classified by cause (telegram-errors.ts).
 */

/** Telegram Stars subscriptions renew every 30 days; the only period the Bot API accepts. */
export const STARS_SUBSCRIPTION_PERIOD_SECONDS = 2_592_000;
export const STARS_CURRENCY = 'XTR';
/** getStarTransactions pages hold at most 100 transactions. */
export const STAR_TRANSACTIONS_PAGE_SIZE = 100;

export interface TelegramUserRef {
  id: number;
  first_name?: string;
  username?: string;
  language_code?: string;
}

export interface TransactionPartnerUser {
  type: 'user';
  user: TelegramUserRef;
  invoice_payload?: string;
  subscription_period?: number;
  transaction_type?: string;
}

export interface StarTransaction {
  /** For a payment: its telegram_payment_charge_id; for a refund: the refunded payment's. */
  id: string;
  amount: number;
  date: number;
  /** Set on money coming in (a user paid). */
  source?: TransactionPartnerUser | { type: string };
  /** Set on money going out (a refund to a user). */
  receiver?: TransactionPartnerUser | { type: string };
}

export interface StarsApi {
  createInvoiceLink(input: {
    title: string;
    description: string;
    payload: string;
    amount: number;
  }): Promise<string>;
  answerPreCheckoutQuery(
    queryId: string,
    answer: { ok: true } | { ok: false; errorMessage: string },
  ): Promise<void>;
  refundStarPayment(userTelegramId: string, chargeId: string): Promise<void>;
  editUserStarSubscription(userTelegramId: string, chargeId: string, isCanceled: boolean): Promise<void>;
  getStarTransactions(offset: number, limit?: number): Promise<StarTransaction[]>;
}

// biome-ignore lint/suspicious/noExplicitAny: methods unknown to telegraf's typings
type RawCall = (method: string, payload: object, options: { signal: TelegrafSignal }) => Promise<any>;

export function createStarsApi(options: { botToken: string; apiRoot: string; timeoutMs: number }): StarsApi {
  const telegram = new Telegram(options.botToken, {
    apiRoot: telegrafApiRoot(options.apiRoot),
    webhookReply: false,
  });
  const raw = telegram.callApi.bind(telegram) as unknown as RawCall;

  const call = <T>(method: string, payload: object): Promise<T> =>
    boundedBotApiCall(options.timeoutMs, (signal) => raw(method, payload, { signal }));

  return {
    createInvoiceLink: ({ title, description, payload, amount }) =>
      call<string>('createInvoiceLink', {
        title,
        description,
        payload,
        currency: STARS_CURRENCY,
        prices: [{ label: title, amount }],
        subscription_period: STARS_SUBSCRIPTION_PERIOD_SECONDS,
      }),
    async answerPreCheckoutQuery(queryId, answer) {
      await call('answerPreCheckoutQuery', {
        pre_checkout_query_id: queryId,
        ok: answer.ok,
        ...(answer.ok ? {} : { error_message: answer.errorMessage }),
      });
    },
    async refundStarPayment(userTelegramId, chargeId) {
      await call('refundStarPayment', {
        user_id: Number(userTelegramId),
        telegram_payment_charge_id: chargeId,
      });
    },
    async editUserStarSubscription(userTelegramId, chargeId, isCanceled) {
      await call('editUserStarSubscription', {
        user_id: Number(userTelegramId),
        telegram_payment_charge_id: chargeId,
        is_canceled: isCanceled,
      });
    },
    async getStarTransactions(offset, limit = STAR_TRANSACTIONS_PAGE_SIZE) {
      const result = await call<{ transactions?: unknown }>('getStarTransactions', { offset, limit });
      if (!result || !Array.isArray(result.transactions)) {
        throw new TelegramNetworkError(
          true,
          'getStarTransactions answered without a transactions list',
          'INVALID_JSON',
        );
      }
      return result.transactions as StarTransaction[];
    },
  };
}
