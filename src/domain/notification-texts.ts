/** Client-facing texts, in the client's Telegram language when we have it (ru, en). */
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
