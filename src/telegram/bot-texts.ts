import type { PlanStatus } from '../db/entities/personal-plan.entity.ts';
import { languageOf } from '../domain/notification-texts.ts';

/**
 * What the bot says, in the client's Telegram language (ru, en; anything else gets English).
 * Plain text only: names come from Telegram profiles and would break Markdown/HTML parsing.
 */
type Language = 'en' | 'ru';

const TEXTS = {
  greeting: {
    en: (name: string) =>
      `Hi${name ? `, ${name}` : ''}! 👋\nI'm your coach's assistant. Open the app, fill in a short survey and get a personal training plan — I'll message you here as soon as it is ready.\n\n/plan — status of your plan\n/help — what I can do`,
    ru: (name: string) =>
      `Привет${name ? `, ${name}` : ''}! 👋\nЯ помощник вашего тренера. Откройте приложение, заполните короткую анкету и получите персональный план тренировок — я напишу сюда, как только он будет готов.\n\n/plan — статус вашего плана\n/help — что я умею`,
  },
  help: {
    en: 'Here is what I can do:\n/start — open the app and fill in the survey\n/plan — status of your latest plan\n/help — this message\n\nYour plan and the survey live in the app: tap the button below or the menu button.',
    ru: 'Вот что я умею:\n/start — открыть приложение и заполнить анкету\n/plan — статус вашего последнего плана\n/help — это сообщение\n\nПлан и анкета — в приложении: нажмите кнопку ниже или кнопку меню.',
  },
  noPlan: {
    en: "You don't have a plan yet. Open the app and fill in the survey — it takes a couple of minutes.",
    ru: 'У вас пока нет плана. Откройте приложение и заполните анкету — это займёт пару минут.',
  },
  queued: {
    en: "Your survey is in. Your plan is in the queue — I'll message you when it is ready.",
    ru: 'Анкета получена, план стоит в очереди — я напишу, когда он будет готов.',
  },
  generating: {
    en: "Your plan is being put together right now. I'll message you when it is ready.",
    ru: 'Ваш план составляется прямо сейчас. Я напишу, когда он будет готов.',
  },
  ready: {
    en: 'Your personal training plan is ready! 💪 Open the app to see it.',
    ru: 'Ваш персональный план тренировок готов! 💪 Откройте приложение, чтобы посмотреть его.',
  },
  failed: {
    en: (reason: string) =>
      `Sorry, we could not prepare your plan${reason ? `: ${reason}` : '.'}\nYou can fill in the survey again in the app.`,
    ru: (reason: string) =>
      `К сожалению, не получилось подготовить ваш план${reason ? `: ${reason}` : '.'}\nВы можете заполнить анкету ещё раз в приложении.`,
  },
  fallback: {
    en: "I don't understand messages yet 🙂 Try /plan for your plan's status or /help for what I can do.",
    ru: 'Я пока не понимаю сообщения 🙂 Попробуйте /plan — статус плана, или /help — что я умею.',
  },
  somethingWentWrong: {
    en: 'Something went wrong on our side. Please try again in a minute.',
    ru: 'Что-то пошло не так на нашей стороне. Попробуйте ещё раз через минуту.',
  },
  openAppButton: { en: 'Open the app', ru: 'Открыть приложение' },
  openPlanButton: { en: 'Open my plan', ru: 'Открыть план' },
  panelButton: { en: 'Trainer panel', ru: 'Панель тренера' },
  panel: {
    en: 'Your trainer panel: applications, clients, metrics and broadcasts.',
    ru: 'Ваша панель тренера: заявки, клиенты, метрики и рассылки.',
  },
  panelNotConfigured: {
    en: 'The trainer panel has no address yet: set TELEGRAM_PANEL_URL or TELEGRAM_MINI_APP_URL.',
    ru: 'У панели тренера пока нет адреса: задайте TELEGRAM_PANEL_URL или TELEGRAM_MINI_APP_URL.',
  },
  commands: {
    en: { start: 'Start and open the app', plan: 'Status of my plan', help: 'What the bot can do' },
    ru: { start: 'Начать и открыть приложение', plan: 'Статус моего плана', help: 'Что умеет бот' },
  },
};

/** The menu button has one label for everyone (the Bot API has no per-language menu button). */
export const MENU_BUTTON_TEXT = 'Open app';

export interface BotTexts {
  language: Language;
  greeting(firstName: string | null | undefined): string;
  help: string;
  planStatus(plan: { status: PlanStatus; error?: string | null } | null): string;
  fallback: string;
  somethingWentWrong: string;
  openAppButton: string;
  openPlanButton: string;
  /** For admins only (owner, trainer, support): /start and /panel. */
  panelButton: string;
  panel: string;
  panelNotConfigured: string;
}

export function botTexts(languageCode: string | null | undefined): BotTexts {
  const language = languageOf(languageCode);
  return {
    language,
    greeting: (firstName) => TEXTS.greeting[language](firstName?.trim() ?? ''),
    help: TEXTS.help[language],
    planStatus(plan) {
      if (!plan) return TEXTS.noPlan[language];
      if (plan.status === 'failed') return TEXTS.failed[language](plan.error?.trim() ?? '');
      return TEXTS[plan.status][language];
    },
    fallback: TEXTS.fallback[language],
    somethingWentWrong: TEXTS.somethingWentWrong[language],
    openAppButton: TEXTS.openAppButton[language],
    openPlanButton: TEXTS.openPlanButton[language],
    panelButton: TEXTS.panelButton[language],
    panel: TEXTS.panel[language],
    panelNotConfigured: TEXTS.panelNotConfigured[language],
  };
}

/** Commands shown in Telegram's "/" menu: English by default, Russian for Russian-language clients. */
export function botCommands(language: Language): Array<{ command: string; description: string }> {
  const descriptions = TEXTS.commands[language];
  return (['start', 'plan', 'help'] as const).map((command) => ({
    command,
    description: descriptions[command],
  }));
}
