import type { SurveyAnswers } from '../domain/survey-answers.ts';
import type { BodyArea, Equipment } from './exercise-library.ts';
import type { DayKind, Goal } from './offline-plan-rules.ts';

/** Languages the offline plan is written in; anything that is not Russian falls back to English. */
export type Lang = 'en' | 'ru';

export interface Texts {
  titles: Record<DayKind, string>;
  /** Weeks 1-4, then the gentle variant of week 1. */
  focus: string[];
  warmup(minutes: number, recovery: boolean): string;
  cooldown(minutes: number): string;
  sec(value: string): string;
  min(value: number): string;
  perSide(reps: string): string;
  sprint: string;
  intervals: string;
  notes: Record<
    | 'superset'
    | 'circuit'
    | 'sprint'
    | 'intervals'
    | 'tempo'
    | 'steady'
    | 'filler'
    | 'fillerDeload'
    | 'mobility',
    string
  >;
  areas: Record<BodyArea, string>;
  list(items: string[]): string;
  guide: {
    warmup: string;
    progressLoad: string;
    progressBodyweight: string;
    nutrition(goal: Goal, weightKg: number): string;
    injury(areas: string): string;
    doctor: string;
    gentle: string;
    recovery: string;
  };
  summary(name: string | null, answers: SurveyAnswers, areas: BodyArea[]): string;
}

const joinList = (and: string) => (items: string[]) =>
  items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} ${and} ${items.at(-1)}`;

function kit(
  equipment: readonly Equipment[],
  names: Record<Exclude<Equipment, 'none'>, string>,
  only: string,
) {
  const owned = equipment.filter((item): item is Exclude<Equipment, 'none'> => item !== 'none');
  return owned.length ? owned.map((item) => names[item]) : [only];
}

const EN: Texts = {
  titles: {
    full_a: 'Full body — squat & push focus',
    full_b: 'Full body — hinge & pull focus',
    full_c: 'Full body — single-leg & core focus',
    upper: 'Upper body',
    lower: 'Lower body',
    push: 'Push: chest, shoulders, triceps',
    pull: 'Pull: back, biceps, hamstrings',
    legs: 'Legs & core',
    recovery: 'Active recovery & mobility',
  },
  focus: [
    'Week 1 — technique and rhythm: moderate weights, leave 2-3 reps in reserve.',
    'Week 2 — same exercises with shorter rests; add a little weight or reps where it felt easy.',
    'Week 3 — peak week: one extra set per exercise and the shortest rests.',
    'Week 4 — deload: fewer sets and lighter weights (about 60-70% effort) so you recover before the next block.',
    'Week 1 — gentle start: fewer sets and longer rests while your body adapts.',
  ],
  warmup: (m, recovery) =>
    recovery
      ? `${m} min: slow walk and gentle joint circles, breathing calmly.`
      : `${m} min: easy cardio to raise your pulse, then dynamic mobility (leg swings, hip and arm circles) and 1-2 light sets of the first exercise.`,
  cooldown: (m) =>
    `${m} min: walk slowly to bring your heart rate down, then stretch the muscles you trained, 20-30 s each.`,
  sec: (v) => `${v} s`,
  min: (v) => `${v} min`,
  perSide: (reps) => `${reps} per side`,
  sprint: '30 s hard / 30 s easy',
  intervals: '1 min hard / 1 min easy',
  notes: {
    superset: 'Superset: go straight to the next exercise, then rest.',
    circuit: 'Circuit: do one set of each strength exercise in a row, then repeat for the listed sets.',
    sprint: 'Cardio finisher: alternate 30 s hard and 30 s easy for the listed rounds.',
    intervals: 'Intervals: 1 min hard (you can barely talk), 1 min easy, for the listed rounds.',
    tempo: 'Tempo: a steady, comfortably hard pace — you can only speak in short phrases.',
    steady: 'Easy steady cardio: you can still hold a conversation.',
    filler:
      'Easy zone-2 cardio: you can talk in full sentences; it builds the aerobic base that speeds up recovery.',
    fillerDeload: 'Deload week: keep this easy and relaxed — recovery is the goal.',
    mobility: 'Move slowly and breathe; stay in a pain-free range.',
  },
  areas: {
    knee: 'knees',
    lower_back: 'lower back',
    shoulder: 'shoulders',
    wrist: 'wrists',
    ankle: 'ankles',
    neck: 'neck',
    hip: 'hips',
  },
  list: joinList('and'),
  guide: {
    warmup:
      'Always warm up first and start each exercise with a lighter practice set; stop any movement that causes sharp pain.',
    progressLoad:
      'Choose weights that leave 1-3 reps in reserve; when you reach the top of the rep range on every set, add a little weight next session.',
    progressBodyweight:
      'Leave 1-3 reps in reserve; when every set feels easy, slow the lowering phase to 3 s or move to a harder variation.',
    nutrition: (goal, kg) =>
      ({
        build_muscle: `Eat about ${Math.round(kg * 1.6)}-${Math.round(kg * 2)} g of protein a day (1.6-2 g per kg) with a small calorie surplus, and drink water through the day.`,
        lose_weight: `Keep a moderate calorie deficit (300-500 kcal a day) with plenty of protein (about ${Math.round(kg * 1.6)} g a day), and drink 2-3 litres of water.`,
        endurance:
          'Fuel longer sessions with carbohydrates, drink before, during and after training, and add electrolytes on sweaty days.',
        general_health:
          'Build meals around vegetables, whole grains and a protein source, and drink water regularly through the day.',
      })[goal],
    injury: (areas) =>
      `Exercises that load your ${areas} were left out; if anything still hurts there, skip it or swap it for a pain-free move.`,
    doctor:
      'You mentioned an injury or health issue — check this plan with a doctor or physiotherapist before you start.',
    gentle:
      'Week 1 is deliberately gentle (fewer sets, longer rests); add effort only when you recover well between sessions.',
    recovery:
      'Sleep 7-9 hours and keep rest or recovery days truly easy; if soreness lasts over 3 days, repeat the previous week instead of progressing.',
  },
  summary(name, a, areas) {
    const goal = {
      lose_weight: 'help you lose weight',
      build_muscle: 'help you build muscle',
      endurance: 'improve your endurance',
      general_health: 'improve your overall health and fitness',
    }[a.goal];
    const split =
      a.daysPerWeek <= 3 ? 'full-body' : a.daysPerWeek === 4 ? 'upper/lower' : 'push/pull/legs-style';
    const equipment = a.equipment.includes('gym')
      ? 'a full gym'
      : this.list(kit(a.equipment, EN_KIT, 'bodyweight only'));
    const days = `${a.daysPerWeek} training day${a.daysPerWeek === 1 ? '' : 's'} a week`;
    const parts = [
      `${name ? `${name}, this` : 'This'} 4-week plan is built to ${goal}: ${days}, about ${a.sessionMinutes} minutes each.`,
      `It follows a ${split} split using ${equipment}; weeks 1-3 build up step by step and week 4 is a lighter deload.`,
    ];
    if (areas.length)
      parts.push(`Exercises that strain your ${this.list(areas.map((x) => this.areas[x]))} are left out.`);
    if (a.age >= 60 || a.activityLevel === 'sedentary') parts.push('The first week starts gently.');
    return parts.join(' ');
  },
};

const EN_KIT = {
  dumbbells: 'dumbbells',
  barbell: 'a barbell',
  kettlebell: 'a kettlebell',
  bands: 'bands',
  gym: 'a gym',
};
const RU_KIT = { dumbbells: 'гантели', barbell: 'штанга', kettlebell: 'гиря', bands: 'резинки', gym: 'зал' };

const ruPlural = (n: number, one: string, few: string, many: string) => {
  const tens = n % 100;
  const last = n % 10;
  if (tens >= 11 && tens <= 14) return many;
  return last === 1 ? one : last >= 2 && last <= 4 ? few : many;
};

const RU: Texts = {
  titles: {
    full_a: 'Всё тело — акцент на присед и жимы',
    full_b: 'Всё тело — акцент на наклоны и тяги',
    full_c: 'Всё тело — работа на одной ноге и кор',
    upper: 'Верх тела',
    lower: 'Низ тела',
    push: 'Жимы: грудь, плечи, трицепс',
    pull: 'Тяги: спина, бицепс, задняя поверхность бедра',
    legs: 'Ноги и кор',
    recovery: 'Активное восстановление и мобильность',
  },
  focus: [
    'Неделя 1 — техника и ритм: умеренные веса, оставляйте 2-3 повторения в запасе.',
    'Неделя 2 — те же упражнения с более коротким отдыхом; где было легко, добавьте немного веса или повторений.',
    'Неделя 3 — пиковая: плюс один подход в каждом упражнении и самый короткий отдых.',
    'Неделя 4 — разгрузочная: меньше подходов и лёгкие веса (около 60-70% усилия), чтобы восстановиться перед следующим циклом.',
    'Неделя 1 — щадящий старт: меньше подходов и больше отдыха, пока организм привыкает.',
  ],
  warmup: (m, recovery) =>
    recovery
      ? `${m} мин: спокойная ходьба и мягкая суставная разминка, ровное дыхание.`
      : `${m} мин: лёгкое кардио, затем динамическая разминка (махи ногами, вращения тазом и руками) и 1-2 лёгких подхода первого упражнения.`,
  cooldown: (m) =>
    `${m} мин: медленная ходьба, чтобы успокоить пульс, затем растяжка проработанных мышц по 20-30 с.`,
  sec: (v) => `${v} с`,
  min: (v) => `${v} мин`,
  perSide: (reps) => `${reps} на сторону`,
  sprint: '30 с интенсивно / 30 с легко',
  intervals: '1 мин интенсивно / 1 мин легко',
  notes: {
    superset: 'Суперсет: сразу переходите к следующему упражнению, затем отдых.',
    circuit:
      'Круговая тренировка: по одному подходу каждого силового упражнения подряд, затем повторите круг.',
    sprint: 'Кардио-финишер: чередуйте 30 с интенсивно и 30 с легко указанное число раундов.',
    intervals: 'Интервалы: 1 мин интенсивно (трудно говорить), 1 мин легко, указанное число раундов.',
    tempo: 'Темповая работа: ровный, ощутимо тяжёлый темп — можно говорить лишь короткими фразами.',
    steady: 'Лёгкое равномерное кардио: вы можете спокойно разговаривать.',
    filler:
      'Лёгкое кардио в зоне 2: можно говорить полными фразами; оно развивает аэробную базу и ускоряет восстановление.',
    fillerDeload: 'Разгрузочная неделя: держите лёгкий темп — цель в восстановлении.',
    mobility: 'Двигайтесь медленно и дышите; работайте в безболезненной амплитуде.',
  },
  areas: {
    knee: 'колени',
    lower_back: 'поясницу',
    shoulder: 'плечи',
    wrist: 'запястья',
    ankle: 'голеностопы',
    neck: 'шею',
    hip: 'тазобедренные суставы',
  },
  list: joinList('и'),
  guide: {
    warmup:
      'Всегда начинайте с разминки и делайте первый подход каждого упражнения с лёгким весом; прекращайте движение при острой боли.',
    progressLoad:
      'Подбирайте вес так, чтобы оставалось 1-3 повторения в запасе; когда во всех подходах выходит верх диапазона, в следующий раз немного добавьте вес.',
    progressBodyweight:
      'Оставляйте 1-3 повторения в запасе; когда все подходы даются легко, замедлите опускание до 3 с или перейдите к более сложному варианту.',
    nutrition: (goal, kg) =>
      ({
        build_muscle: `Ешьте около ${Math.round(kg * 1.6)}-${Math.round(kg * 2)} г белка в день (1,6-2 г на кг веса) с небольшим профицитом калорий и пейте воду в течение дня.`,
        lose_weight: `Держите умеренный дефицит калорий (300-500 ккал в день) и достаточно белка (около ${Math.round(kg * 1.6)} г в день), пейте 2-3 литра воды.`,
        endurance:
          'Перед длинными тренировками ешьте углеводы, пейте до, во время и после занятия, в жару добавляйте электролиты.',
        general_health:
          'Стройте рацион вокруг овощей, цельных злаков и белка и регулярно пейте воду в течение дня.',
      })[goal],
    injury: (areas) =>
      `Упражнения с нагрузкой на ${areas} исключены; если что-то всё же вызывает боль, пропустите его или замените безболезненным.`,
    doctor:
      'Вы упомянули травму или проблему со здоровьем — перед началом обсудите этот план с врачом или физиотерапевтом.',
    gentle:
      'Первая неделя специально облегчена (меньше подходов, больше отдыха); повышайте нагрузку, только если хорошо восстанавливаетесь.',
    recovery:
      'Спите 7-9 часов, дни отдыха и восстановления проводите действительно легко; если мышцы болят дольше 3 дней, повторите прошлую неделю.',
  },
  summary(name, a, areas) {
    const goal = {
      lose_weight: 'снизить вес',
      build_muscle: 'набрать мышечную массу',
      endurance: 'развить выносливость',
      general_health: 'укрепить здоровье и общую физическую форму',
    }[a.goal];
    const split = a.daysPerWeek <= 3 ? 'всё тело' : a.daysPerWeek === 4 ? 'верх/низ' : 'жимы/тяги/ноги';
    const equipment = a.equipment.includes('gym')
      ? 'тренажёрный зал'
      : kit(a.equipment, RU_KIT, 'только собственный вес').join(', ');
    const n = a.daysPerWeek;
    const parts = [
      `${name ? `${name}, этот` : 'Этот'} 4-недельный план поможет вам ${goal}: ${n} ${ruPlural(n, 'тренировка', 'тренировки', 'тренировок')} в неделю, примерно по ${a.sessionMinutes} мин.`,
      `Схема — ${split}, инвентарь: ${equipment}; в неделях 1-3 нагрузка растёт постепенно, 4-я неделя — разгрузочная.`,
    ];
    if (areas.length)
      parts.push(`Упражнения с нагрузкой на ${this.list(areas.map((x) => this.areas[x]))} исключены.`);
    if (a.age >= 60 || a.activityLevel === 'sedentary') parts.push('Первая неделя — щадящий старт.');
    return parts.join(' ');
  },
};

export const TEXTS: Record<Lang, Texts> = { en: EN, ru: RU };
