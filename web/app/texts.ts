import type { Language } from '../shared/i18n.ts';
import type { Problem } from './validation.ts';

/**
 * Every sentence of the Mini App, in English and Russian. Add a key to `en` first: TypeScript then
 * refuses to build until `ru` (texts-ru.ts) has it too.
 */
export const en = {
  appTitle: 'Training plan',
  loading: 'Loading…',
  networkError: 'No connection to the server. Check your internet and try again.',
  retry: 'Try again',
  back: 'Back',
  hello: (name: string) => (name ? `Hi, ${name}!` : 'Hi!'),
  homeNoPlan: 'Answer a short survey and your coach’s assistant will build a personal training plan for you.',
  homeGenerating: 'Your plan is being prepared. It usually takes a minute.',
  homeReady: 'Your personal plan is ready.',
  homeFailed: 'We could not prepare your last plan.',
  startSurvey: 'Fill in the survey',
  openPlan: 'Open my plan',
  seeStatus: 'See progress',
  newSurvey: 'Fill in the survey again',
  menu: 'More',
  subscriptionLine: (title: string, date: string) => `Subscription “${title}” until ${date}`,
  earlierPlans: 'My plans',
  checkIns: 'Check-ins',
  subscription: 'Subscription',
  // Survey
  surveyTitle: 'About you',
  surveyIntro: 'All fields are required unless marked optional.',
  optional: '(optional)',
  submit: 'Get my plan',
  submitting: 'Sending your answers…',
  fixErrors: 'Please fix the highlighted fields.',
  fields: {
    goal: 'Your main goal',
    sex: 'Sex',
    age: 'Age, years',
    heightCm: 'Height, cm',
    weightKg: 'Weight, kg',
    activityLevel: 'Everyday activity',
    experience: 'Training experience',
    daysPerWeek: 'Training days per week',
    sessionMinutes: 'Minutes per session',
    equipment: 'Equipment you have',
    injuries: 'Injuries or health limits',
    notes: 'Anything else for your coach',
  },
  options: {
    lose_weight: 'Lose weight',
    build_muscle: 'Build muscle',
    endurance: 'Endurance',
    general_health: 'General health',
    male: 'Male',
    female: 'Female',
    sedentary: 'Mostly sitting',
    light: 'Lightly active',
    moderate: 'Moderately active',
    high: 'Very active',
    beginner: 'Beginner',
    intermediate: 'Intermediate',
    advanced: 'Advanced',
    none: 'No equipment',
    dumbbells: 'Dumbbells',
    barbell: 'Barbell',
    kettlebell: 'Kettlebell',
    bands: 'Resistance bands',
    gym: 'Full gym',
  } as Record<string, string>,
  // Plan
  planTitle: 'Your plan',
  planQueued: 'Your plan is in the queue…',
  planGenerating: 'Your plan is being written…',
  takingLonger:
    'This is taking longer than usual. You can close the app: the bot will message you when your plan is ready.',
  reopenFromBot: 'This session has expired. Reopen the app from the bot.',
  planWaitHint: 'You can close the app: the bot will message you when the plan is ready.',
  planFailed: 'We could not prepare your plan.',
  planFailedHint: 'Please fill in the survey again. If it keeps failing, write to your coach in the bot.',
  weeksNav: 'Weeks',
  week: (n: number) => `Week ${n}`,
  day: (n: number) => `Day ${n}`,
  minutes: (n: number) => `${n} min`,
  warmup: 'Warm-up',
  cooldown: 'Cool-down',
  exerciseLine: (sets: number, reps: string, rest: number) => `${sets} × ${reps}, rest ${rest} s`,
  guidelines: 'Guidelines',
  createdOn: (date: string) => `Created ${date}`,
  status: { queued: 'In the queue', generating: 'Being written', ready: 'Ready', failed: 'Failed' },
  plansTitle: 'My plans',
  plansEmpty: 'No plans yet.',
  showMore: 'Show more',
  latest: 'latest',
  // Check-ins
  checkInsTitle: 'Check-ins',
  newCheckIn: 'New entry',
  kind: 'Type',
  kinds: { check_in: 'Check-in', fitness_test: 'Fitness test' },
  results: {
    weightKg: 'Weight, kg',
    bodyFatPercent: 'Body fat, %',
    restingHeartRate: 'Resting pulse, bpm',
    pushUps: 'Push-ups',
    squats: 'Squats',
    plankSeconds: 'Plank, seconds',
    runMinutes: 'Run, minutes',
    runKm: 'Run, km',
    energy: 'Energy, 1–10',
    sleepHours: 'Sleep, hours',
  } as Record<string, string>,
  resultsHint: 'Fill in at least one result.',
  checkInNotes: 'Notes',
  saveCheckIn: 'Save entry',
  saving: 'Saving…',
  saved: 'Saved.',
  checkInsEmpty: 'No entries yet.',
  earlierEntries: 'Earlier entries',
  // Subscription
  subscriptionTitle: 'Subscription',
  yourSubscription: 'Your subscription',
  noSubscription: 'You have no subscription yet.',
  subStatus: {
    active: 'Active',
    cancelled: 'Cancelled: paid until the end of the period',
    expired: 'Expired',
    refunded: 'Refunded',
  },
  paidUntil: (date: string) => `Paid until ${date}.`,
  renews: 'Renews automatically every 30 days.',
  doesNotRenew: 'Does not renew.',
  plansOnSale: 'Choose a plan',
  perMonth: (stars: number) => `${stars} Stars per 30 days`,
  subscribe: (stars: number) => `Subscribe for ${stars} Stars`,
  opening: 'Opening the payment…',
  confirming: 'Payment received, confirming…',
  paidActive: 'Thank you! Your subscription is active.',
  payCancelled: 'The payment was cancelled. Nothing was charged.',
  payFailed: 'The payment failed. Please try again.',
  payPending: 'The payment is being processed. This page will update when it is done.',
  payUnsupported: 'Payments need the Telegram app. Open this page from the bot in Telegram.',
  payNoAnswer:
    'Telegram did not tell us how the payment ended. If you paid, the bot will message you; otherwise try again.',
  payNotConfirmed: 'The payment is taking longer to confirm. The bot will message you when it is done.',
  // Outside Telegram
  outsideTitle: 'Open this in Telegram',
  outsideText: 'This page is the coach’s Mini App: open it from the bot in Telegram.',
};

export type Texts = typeof en;

export function problemText(language: Language, problem: Problem | undefined): string | undefined {
  if (!problem) return undefined;
  const ru = language === 'ru';
  switch (problem.code) {
    case 'required':
      return ru ? 'Заполните это поле.' : 'Please fill this in.';
    case 'not_number':
      return ru ? 'Введите число.' : 'Enter a number.';
    case 'not_integer':
      return ru ? 'Введите целое число.' : 'Enter a whole number.';
    case 'range':
      return ru
        ? `Введите число от ${problem.min} до ${problem.max}.`
        : `Enter a number from ${problem.min} to ${problem.max}.`;
    case 'too_long':
      return ru ? `Не больше ${problem.max} символов.` : `At most ${problem.max} characters.`;
    case 'bad_text':
      return ru ? 'В тексте есть недопустимые символы.' : 'The text has characters that are not allowed.';
    case 'choose_one':
      return ru ? 'Выберите вариант.' : 'Choose one.';
    case 'choose_some':
      return ru ? 'Выберите хотя бы один вариант.' : 'Choose at least one.';
    case 'server':
      return problem.message;
  }
}
