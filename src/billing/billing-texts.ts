import { languageOf } from '../domain/notification-texts.ts';

/** What the bot tells a client about their subscription, and pre-checkout refusals (en, ru). */
const date = (at: Date, language: 'en' | 'ru') =>
  at.toLocaleDateString(language === 'ru' ? 'ru-RU' : 'en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  });

const TEXTS = {
  started: {
    en: (plan: string, until: string) =>
      `Thank you! Your subscription "${plan}" is active until ${until}. It renews every 30 days; you can cancel any time in Telegram.`,
    ru: (plan: string, until: string) =>
      `Спасибо! Подписка «${plan}» активна до ${until}. Она продлевается каждые 30 дней; отменить можно в любой момент в Telegram.`,
  },
  renewed: {
    en: (plan: string, until: string) => `Your subscription "${plan}" has been renewed until ${until}. 💪`,
    ru: (plan: string, until: string) => `Подписка «${plan}» продлена до ${until}. 💪`,
  },
  cancelled: {
    en: (plan: string, until: string) =>
      `Your subscription "${plan}" will not renew. You keep access until ${until}.`,
    ru: (plan: string, until: string) =>
      `Подписка «${plan}» не будет продлена. Доступ сохранится до ${until}.`,
  },
  renewalFailed: {
    en: (plan: string) =>
      `We could not renew your subscription "${plan}": the payment did not go through. Open the app to subscribe again.`,
    ru: (plan: string) =>
      `Не получилось продлить подписку «${plan}»: оплата не прошла. Откройте приложение, чтобы оформить её снова.`,
  },
  ended: {
    en: (plan: string) =>
      `Your subscription "${plan}" has ended. Open the app whenever you want to come back.`,
    ru: (plan: string) => `Подписка «${plan}» закончилась. Откройте приложение, когда захотите вернуться.`,
  },
  refunded: {
    en: (plan: string) => `Your payment for "${plan}" has been refunded and the subscription has ended.`,
    ru: (plan: string) => `Оплата подписки «${plan}» возвращена, подписка завершена.`,
  },
  button: { en: 'Open the app', ru: 'Открыть приложение' },
  refusals: {
    plan_unavailable: {
      en: 'This plan is no longer available. Please open the app and choose another one.',
      ru: 'Этот тариф больше недоступен. Откройте приложение и выберите другой.',
    },
    price_changed: {
      en: 'The price of this plan has changed. Please open the app and try again.',
      ru: 'Цена тарифа изменилась. Откройте приложение и попробуйте ещё раз.',
    },
    already_subscribed: {
      en: 'You already have an active subscription.',
      ru: 'У вас уже есть активная подписка.',
    },
    checkout_in_progress: {
      en: 'A payment for a subscription is already in progress. If it did not go through, try again in a few minutes.',
      ru: 'Оплата подписки уже выполняется. Если она не прошла, попробуйте ещё раз через несколько минут.',
    },
    invalid_invoice: {
      en: 'This invoice is not valid. Please open the app and try again.',
      ru: 'Этот счёт недействителен. Откройте приложение и попробуйте ещё раз.',
    },
    unavailable: {
      en: 'Payments are temporarily unavailable. Please try again in a minute.',
      ru: 'Оплата временно недоступна. Попробуйте ещё раз через минуту.',
    },
  },
} as const;

export type SubscriptionMessageKind =
  | 'started'
  | 'renewed'
  | 'cancelled'
  | 'renewalFailed'
  | 'ended'
  | 'refunded';
export type PreCheckoutRefusal = keyof typeof TEXTS.refusals;

export function subscriptionMessage(
  kind: SubscriptionMessageKind,
  languageCode: string | null,
  plan: string,
  until: Date | null,
): { text: string; buttonText: string } {
  const language = languageOf(languageCode);
  const untilText = until ? date(until, language) : '';
  const text = (TEXTS[kind][language] as (plan: string, until: string) => string)(plan, untilText);
  return { text, buttonText: TEXTS.button[language] };
}

export function preCheckoutRefusal(reason: PreCheckoutRefusal, languageCode: string | undefined): string {
  return TEXTS.refusals[reason][languageOf(languageCode)];
}
