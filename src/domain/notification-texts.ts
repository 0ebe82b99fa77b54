import type { GOALS } from './survey-answers.ts';

type Goal = (typeof GOALS)[number];

/** What the bot sends (to clients, and to the coach's team), in the reader's Telegram language when we have it (ru, en). */
const TEXTS = {
  planReady: {
    en: (name: string) =>
      `${name ? `${name}, y` : 'Y'}our personal training plan is ready! 💪\nOpen the app to see it.`,
    ru: (name: string) =>
      `${name ? `${name}, в` : 'В'}аш персональный план тренировок готов! 💪\nОткройте приложение, чтобы посмотреть его.`,
  },
  openPlanButton: { en: 'Open my plan', ru: 'Открыть план' },
  accepted: {
    en: (name: string) =>
      `${name ? `${name}, g` : 'G'}ood news: the coach has accepted you as a client! 🎉\nOpen the app to get started.`,
    ru: (name: string) =>
      `${name ? `${name}, о` : 'О'}тличные новости: тренер принял вас в клиенты! 🎉\nОткройте приложение, чтобы начать.`,
  },
  openAppButton: { en: 'Open the app', ru: 'Открыть приложение' },
  planFailed: {
    unfixable: {
      en: (name: string) =>
        `${name ? `${name}, w` : 'W'}e could not create your training plan from these answers. 😔\nPlease check your answers and send the survey again in the app, or write to your coach.`,
      ru: (name: string) =>
        `${name ? `${name}, к` : 'К'} сожалению, по этим ответам не получилось составить план тренировок. 😔\nПроверьте ответы и отправьте анкету ещё раз в приложении или напишите тренеру.`,
    },
    unavailable: {
      en: (name: string) =>
        `${name ? `${name}, s` : 'S'}orry: the plan generator is unavailable right now and your training plan could not be created. 😔\nPlease send the survey again in the app in a little while; this attempt does not count against your daily limit.`,
      ru: (name: string) =>
        `${name ? `${name}, и` : 'И'}звините: генератор планов сейчас недоступен, и план тренировок не получилось составить. 😔\nПожалуйста, отправьте анкету ещё раз в приложении чуть позже — эта попытка не засчитывается в дневной лимит.`,
    },
  },
  retryButton: { en: 'Send the survey again', ru: 'Отправить анкету снова' },
  newApplication: {
    en: (who: string, goal: string) =>
      `New application from ${who}${goal ? ` (goal: ${goal})` : ''}.\nOpen the panel to review it.`,
    ru: (who: string, goal: string) =>
      `Новая заявка от ${who}${goal ? ` (цель: ${goal})` : ''}.\nОткройте панель, чтобы посмотреть её.`,
  },
  openPanelButton: { en: 'Open the panel', ru: 'Открыть панель' },
  goals: {
    lose_weight: { en: 'lose weight', ru: 'похудеть' },
    build_muscle: { en: 'build muscle', ru: 'набрать мышечную массу' },
    endurance: { en: 'endurance', ru: 'выносливость' },
    general_health: { en: 'general health', ru: 'общее здоровье' },
  } satisfies Record<Goal, Record<Language, string>>,
};

type Language = 'en' | 'ru';

export function languageOf(code: string | null | undefined): Language {
  return code?.toLowerCase().startsWith('ru') ? 'ru' : 'en';
}

export function planReadyMessage(languageCode: string | null, firstName: string | null) {
  const language = languageOf(languageCode);
  return { text: TEXTS.planReady[language](firstName ?? ''), buttonText: TEXTS.openPlanButton[language] };
}

export function acceptedMessage(languageCode: string | null, firstName: string | null) {
  const language = languageOf(languageCode);
  return { text: TEXTS.accepted[language](firstName ?? ''), buttonText: TEXTS.openAppButton[language] };
}

export type PlanFailureCause = keyof typeof TEXTS.planFailed;

/** What the client reads on the plan (API `error`) and in the bot message: why, and how to try again. */
export function planFailedMessage(
  cause: PlanFailureCause,
  languageCode: string | null,
  firstName: string | null,
) {
  const language = languageOf(languageCode);
  return {
    text: TEXTS.planFailed[cause][language](firstName ?? ''),
    buttonText: TEXTS.retryButton[language],
  };
}

export function newApplicationMessage(languageCode: string | null, applicant: string, goal: string | null) {
  const language = languageOf(languageCode);
  return {
    text: TEXTS.newApplication[language](applicant, goal ?? ''),
    buttonText: TEXTS.openPanelButton[language],
  };
}

/** A survey goal as words in the reader's language ("build muscle"), for the coach's messages. */
export function goalLabel(languageCode: string | null, goal: Goal): string {
  return TEXTS.goals[goal][languageOf(languageCode)];
}
