import { randomBytes } from 'node:crypto';
import type { BotUpdate, Params, Reply, UpdateOutbox } from './bot-api-request.ts';
import { clampInt, fail, ok, toBool } from './bot-api-request.ts';

// Telegram Stars for the fake Bot API: the bot's payment methods with Telegram's checks and error texts,
// and the other side of the counter for tests (a user paying, monthly renewals, refunds by support).
// Updates go out through the outbox (bot-api-request.ts), so they reach the bot as Telegram's do.

export type FakeUser = { id: number; first_name: string; language_code?: string; username?: string };
/** What createInvoiceLink made; subscriptionPeriod (seconds) is set for subscriptions. */
export type FakeInvoice = { link: string; title: string; description: string; payload: string } & FakePrice;
type FakePrice = { currency: string; amount: number; subscriptionPeriod?: number };
/** The bot's answer to a pre-checkout query; errorMessage 'timeout' when none came in time. */
export type FakeCheckoutAnswer = { ok: boolean; errorMessage?: string };
export type FakePreCheckoutAnswer = FakeCheckoutAnswer & { queryId: string; at: number };
/** expiresAt is in unix seconds (subscriptions only); update is the successful_payment update. */
export type FakePayment = { chargeId: string; expiresAt?: number; update: BotUpdate };
/** A past payment; date in unix seconds (default: now). */
export type FakePaymentRecord = Pick<FakeSubscription, 'payload' | 'amount'> & {
  user: FakeUser;
  subscriptionPeriod?: number;
  date?: number;
};

export interface FakeSubscription {
  /** Every payment of the subscription, the first one first. */
  chargeIds: readonly string[];
  userId: number;
  payload: string;
  amount: number;
  period: number;
  /** Telegram will charge again at expiresAt: neither canceled (editUserStarSubscription) nor refunded. */
  renews: boolean;
  canceled: boolean;
  refunded: boolean;
  /** Unix seconds. */
  expiresAt: number;
}

export interface FakeTelegramPayments {
  readonly invoices: readonly FakeInvoice[];
  readonly preCheckoutAnswers: readonly FakePreCheckoutAnswer[];
  /** A snapshot, taken on every read. */
  readonly subscriptions: readonly FakeSubscription[];
  /**
   * What the user's Telegram app does on "Pay": a pre_checkout_query to the bot; if the bot approves
   * within timeoutMs (Telegram's 10 s), the charge and a successful_payment message. totalAmount and
   * payload tamper with the query, as an attacker's client would; the approved query is what is charged.
   */
  openInvoice(
    link: string,
    user: FakeUser,
    options?: { totalAmount?: number; payload?: string; timeoutMs?: number },
  ): Promise<{ answer: FakeCheckoutAnswer; payment?: FakePayment }>;
  /**
   * Telegram's monthly charge of the subscription chargeId (any of its payments) belongs to; undefined
   * once canceled or refunded. deliver: false records it without sending the update (see deliver()).
   */
  renew(chargeId: string, options?: { deliver?: boolean }): FakePayment | undefined;
  /** Sends an update (again), unchanged, same update_id: redelivery, late or out-of-order delivery. */
  deliver(update: BotUpdate): void;
  /** A refund made by Telegram support: the same effects as refundStarPayment. Throws like it would fail. */
  refundFromTelegram(chargeId: string): void;
  /** Records successful payments without sending updates (history for sync tests); returns the charge ids. */
  recordPayments(items: readonly FakePaymentRecord[]): string[];
  /** Resolves when every update sent so far was accepted by the bot (or the fake closed). */
  waitForDeliveries(): Promise<void>;
}

type Subscription = Omit<FakeSubscription, 'renews' | 'chargeIds'> & { user: FakeUser; chargeIds: string[] };
type Charge = Pick<Subscription, 'user' | 'payload' | 'amount' | 'refunded'> & {
  id: string;
  subscription?: Subscription;
};
type Transaction = Record<string, unknown> & { date: number };
type PendingQuery = { deadline: number; settle: (answer: FakeCheckoutAnswer) => void };

const STARS = 'XTR';
/** The only period the Bot API accepts (30 days). */
const SUBSCRIPTION_PERIOD = 2_592_000;
/** Ceilings measured against Telegram: 10000 per subscription period, 100000 for a one-off invoice. */
const MAX_SUBSCRIPTION_STARS = 10_000;
const MAX_ONE_OFF_STARS = 100_000;
const PRE_CHECKOUT_TIMEOUT_MS = 10_000;
const INVOICE_TEXTS = ['title', 'description', 'payload', 'currency', 'prices'];
const QUERY_TOO_OLD = 'query is too old and response timeout expired or query ID is invalid';

const now = () => Math.floor(Date.now() / 1000);
const text = (raw: unknown) => (raw === undefined || raw === null ? '' : String(raw));
const bad = (description: string) => fail(400, `Bad Request: ${description}`);

/** nextMessageId: the fake's message ids, which payment service messages share with sent messages. */
export function createFakePayments(
  outbox: UpdateOutbox,
  nextMessageId: () => number,
): FakeTelegramPayments & {
  /** The Bot API methods it answers (lower-case name), else undefined. */
  handle(method: string, params: Params): Reply | undefined;
  close(): void;
} {
  const invoices: FakeInvoice[] = [];
  const preCheckoutAnswers: FakePreCheckoutAnswer[] = [];
  const pendingQueries = new Map<string, PendingQuery>();
  const charges = new Map<string, Charge>();
  const subscriptions: Subscription[] = [];
  const transactions: Transaction[] = [];
  let transactionsInOrder = true;

  const methods: Record<string, (params: Params) => Reply> = {
    createinvoicelink(params) {
      const invoice = readInvoice(params);
      if (typeof invoice === 'string') return bad(invoice);
      invoices.push({ link: `https://t.me/$${randomBytes(12).toString('base64url')}`, ...invoice });
      return ok(invoices.at(-1)!.link);
    },
    answerprecheckoutquery(params) {
      const approved = toBool(params.ok);
      const errorMessage = text(params.error_message);
      if (!approved && errorMessage === '') return bad('parameter "error_message" is required');
      const queryId = text(params.pre_checkout_query_id);
      const query = pendingQueries.get(queryId);
      // Unknown, already answered and late answers all look the same to the bot.
      if (!query || Date.now() > query.deadline) return bad(QUERY_TOO_OLD);
      const answer = approved ? { ok: true } : { ok: false, errorMessage };
      preCheckoutAnswers.push({ queryId, ...answer, at: Date.now() });
      query.settle(answer);
      return ok(true);
    },
    refundstarpayment(params) {
      const userId = readUserId(params.user_id);
      if (userId === undefined) return bad('invalid user_id specified');
      const chargeId = text(params.telegram_payment_charge_id);
      if (chargeId === '') return bad('parameter "telegram_payment_charge_id" is required');
      const error = refund(chargeId, userId);
      return error ? bad(error) : ok(true);
    },
    edituserstarsubscription(params) {
      const userId = readUserId(params.user_id);
      if (userId === undefined) return bad('invalid user_id specified');
      const charge = charges.get(text(params.telegram_payment_charge_id));
      if (!charge?.subscription || charge.user.id !== userId) return bad('CHARGE_ID_INVALID');
      charge.subscription.canceled = toBool(params.is_canceled);
      return ok(true);
    },
    getstartransactions(params) {
      const offset = clampInt(params.offset, 0, 0, Number.MAX_SAFE_INTEGER);
      const limit = clampInt(params.limit, 100, 1, 100); // clamped, not refused, like the Bot API does
      if (!transactionsInOrder) transactions.sort((a, b) => a.date - b.date); // stable: ties keep order
      transactionsInOrder = true;
      return ok({ transactions: transactions.slice(offset, offset + limit) });
    },
  };

  function addTransaction(transaction: Transaction): void {
    if (transaction.date < (transactions.at(-1)?.date ?? 0)) transactionsInOrder = false;
    transactions.push(transaction);
  }

  /** A first payment; with a period it starts a subscription, whose later payments renew() adds. */
  function firstCharge(item: FakePaymentRecord, date: number): Charge {
    const { user, payload, amount, subscriptionPeriod: period } = item;
    if (!period) return addCharge(item, date);
    const subscription = { user, userId: user.id, payload, amount, period, expiresAt: date + period };
    subscriptions.push({ ...subscription, chargeIds: [], canceled: false, refunded: false });
    return addCharge(item, date, subscriptions.at(-1));
  }

  /** One successful payment: the charge and its incoming transaction. */
  function addCharge(item: FakePaymentRecord, date: number, subscription?: Subscription): Charge {
    const { user, payload, amount } = item;
    const charge: Charge = { id: newChargeId(), user, payload, amount, subscription, refunded: false };
    subscription?.chargeIds.push(charge.id);
    charges.set(charge.id, charge);
    const period = subscription ? { subscription_period: subscription.period } : {};
    addTransaction({ id: charge.id, amount, date, source: { ...partner(user, payload), ...period } });
    return charge;
  }

  /** The service message in the user's chat that tells the bot about a payment or a refund. */
  function serviceMessage(user: FakeUser, fields: object): BotUpdate {
    const chat = { id: user.id, type: 'private', first_name: user.first_name, username: user.username };
    const message = { message_id: nextMessageId(), date: now(), chat, from: userObject(user), ...fields };
    return outbox.number({ message });
  }

  function successfulPayment(charge: Charge, first: boolean, deliver: boolean): FakePayment {
    const until = charge.subscription?.expiresAt;
    const recurring = { subscription_expiration_date: until, is_recurring: true, is_first_recurring: first };
    const payment = { ...paymentFields(charge), provider_payment_charge_id: '', ...(until ? recurring : {}) };
    const update = serviceMessage(charge.user, { successful_payment: payment });
    if (deliver) outbox.send(update);
    return { chargeId: charge.id, expiresAt: until, update };
  }

  /** Returns Telegram's error text, or undefined once refunded (outgoing transaction, update sent). */
  function refund(chargeId: string, userId?: number): string | undefined {
    const charge = charges.get(chargeId);
    if (!charge || (userId !== undefined && charge.user.id !== userId)) return 'CHARGE_ID_INVALID';
    if (charge.refunded) return 'CHARGE_ALREADY_REFUNDED';
    charge.refunded = true;
    if (charge.subscription) charge.subscription.refunded = true; // a refunded subscription ends
    const receiver = partner(charge.user, charge.payload);
    addTransaction({ id: chargeId, amount: charge.amount, date: now(), receiver });
    outbox.send(serviceMessage(charge.user, { refunded_payment: paymentFields(charge) }));
    return undefined;
  }

  /** Sends the pre_checkout_query and waits for the bot's answer, as the user's app does. */
  function ask(query: { id: string }, timeoutMs: number): Promise<FakeCheckoutAnswer> {
    return new Promise((resolve) => {
      const settle = (answer: FakeCheckoutAnswer) => {
        clearTimeout(timer);
        pendingQueries.delete(query.id); // answered or timed out: any later answer is too old
        resolve(answer);
      };
      const timer = setTimeout(() => settle({ ok: false, errorMessage: 'timeout' }), timeoutMs);
      pendingQueries.set(query.id, { deadline: Date.now() + timeoutMs, settle });
      outbox.send(outbox.number({ pre_checkout_query: query }));
    });
  }

  return {
    invoices,
    preCheckoutAnswers,
    get subscriptions() {
      return subscriptions.map(({ user, ...s }) => ({
        ...s,
        chargeIds: [...s.chargeIds],
        renews: !s.canceled && !s.refunded,
      }));
    },
    async openInvoice(link, user, options = {}) {
      const invoice = invoices.find((i) => i.link === link);
      if (!invoice) throw new Error(`fake Telegram: no invoice behind ${link}`);
      const amount = options.totalAmount ?? invoice.amount;
      const payload = options.payload ?? invoice.payload;
      const id = randomBytes(8).readBigUInt64BE().toString(); // Telegram's query ids are 64-bit numbers
      const from = userObject(user);
      const query = { id, from, currency: invoice.currency, total_amount: amount, invoice_payload: payload };
      const answer = await ask(query, options.timeoutMs ?? PRE_CHECKOUT_TIMEOUT_MS);
      if (!answer.ok) return { answer };
      const period = invoice.subscriptionPeriod;
      const charge = firstCharge({ user, payload, amount, subscriptionPeriod: period }, now());
      return { answer, payment: successfulPayment(charge, true, true) };
    },
    renew(chargeId, options = {}) {
      const subscription = charges.get(chargeId)?.subscription;
      if (!subscription || subscription.canceled || subscription.refunded) return undefined;
      subscription.expiresAt += subscription.period; // from the previous expiry, not from now
      const charge = addCharge(subscription, now(), subscription);
      return successfulPayment(charge, false, options.deliver !== false);
    },
    deliver: (update) => outbox.send(update),
    refundFromTelegram(chargeId) {
      const error = refund(chargeId);
      if (error) throw new Error(`fake Telegram: cannot refund ${chargeId}: ${error}`);
    },
    recordPayments: (items) => items.map((item) => firstCharge(item, item.date ?? now()).id),
    waitForDeliveries: () => outbox.idle(),
    // Own keys only: /bot<token>/constructor must stay a 404.
    handle: (method, params) => (Object.hasOwn(methods, method) ? methods[method]?.(params) : undefined),
    close() {
      for (const query of pendingQueries.values()) query.settle({ ok: false, errorMessage: 'timeout' });
    },
  };
}

/** Telegram's invoice checks, in its order: the error text (after "Bad Request: "), or the invoice. */
function readInvoice(params: Params): Omit<FakeInvoice, 'link'> | string {
  // The Bot API server's own checks come first, then TDLib's, then the Telegram server's.
  const missing = INVOICE_TEXTS.find((name) => text(params[name]) === '');
  if (missing) return `parameter "${missing}" is required`;
  const [title = '', description = '', payload = '', currency = ''] = INVOICE_TEXTS.map((n) =>
    text(params[n]),
  );
  const prices = readPrices(params.prices);
  if (!prices) return "can't parse prices JSON object";
  const amount = prices.reduce((sum, price) => sum + price.amount, 0);
  if (amount <= 0) return 'total price must be positive';
  const period = clampInt(params.subscription_period, 0, -1, Number.MAX_SAFE_INTEGER);
  // payments.exportInvoice's errors. Which one a too long title gets is not documented: a guess.
  if ([...title].length > 32 || [...description].length > 255) return 'MEDIA_INVALID';
  if (Buffer.byteLength(payload) > 128) return 'INVOICE_PAYLOAD_INVALID';
  if (period !== 0 && (period !== SUBSCRIPTION_PERIOD || currency !== STARS))
    return 'SUBSCRIPTION_PERIOD_INVALID';
  // Stars need no payment provider; every other currency needs one.
  if ((currency === STARS) === (text(params.provider_token) !== '')) return 'PAYMENT_PROVIDER_INVALID';
  if (currency === STARS && prices.length !== 1) return 'STARS_INVOICE_INVALID';
  if (currency === STARS && period && amount > MAX_SUBSCRIPTION_STARS) return 'SUBSCRIPTION_AMOUNT_INVALID';
  if (currency === STARS && amount > MAX_ONE_OFF_STARS) return 'CURRENCY_TOTAL_AMOUNT_INVALID';
  return { title, description, payload, currency, amount, ...(period ? { subscriptionPeriod: period } : {}) };
}

/** A JSON array in JSON bodies, JSON text in form bodies; each price needs a label and an integer amount. */
function readPrices(raw: unknown): Array<{ label: string; amount: number }> | undefined {
  let prices = raw;
  try {
    if (typeof raw === 'string') prices = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const valid = (p: { label?: unknown; amount?: unknown }) =>
    typeof p?.label === 'string' && p.label !== '' && Number.isSafeInteger(p.amount);
  return Array.isArray(prices) && prices.every(valid) ? prices : undefined;
}

/** The fields SuccessfulPayment and RefundedPayment share. */
function paymentFields(charge: Charge) {
  const { amount, payload, id } = charge;
  return { currency: STARS, total_amount: amount, invoice_payload: payload, telegram_payment_charge_id: id };
}

function newChargeId(): string {
  return `stx${randomBytes(18).toString('base64url')}`; // the shape of Telegram's Stars charge ids
}

function readUserId(raw: unknown): number | undefined {
  const id = Number(text(raw));
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

function userObject({ id, first_name, username, language_code }: FakeUser) {
  return { id, is_bot: false, first_name, username, language_code };
}

/** TransactionPartnerUser for an invoice payment: the payer (source) or the refunded user (receiver). */
function partner(user: FakeUser, payload: string) {
  return {
    type: 'user',
    transaction_type: 'invoice_payment',
    user: userObject(user),
    invoice_payload: payload,
  };
}
