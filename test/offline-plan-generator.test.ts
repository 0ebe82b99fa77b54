import test from 'ava';
import { type BodyArea, EXERCISE_LIBRARY, findExercise, isAvailable } from '../src/ai/exercise-library.ts';
import { createOfflinePlanProvider, generateOfflinePlan } from '../src/ai/offline-plan-generator.ts';
import { type PlanContent, planContentSchema } from '../src/ai/plan-content.ts';
import type { PlanRequest } from '../src/ai/plan-provider.ts';
import { EQUIPMENT, EXPERIENCE_LEVELS, GOALS, type SurveyAnswers } from '../src/domain/survey-answers.ts';

const BASE: SurveyAnswers = {
  goal: 'build_muscle',
  sex: 'female',
  age: 32,
  heightCm: 168,
  weightKg: 64,
  activityLevel: 'moderate',
  experience: 'intermediate',
  daysPerWeek: 3,
  sessionMinutes: 60,
  equipment: ['dumbbells'],
};

function plan(answers: Partial<SurveyAnswers> = {}, extra: Partial<PlanRequest> = {}): PlanContent {
  return generateOfflinePlan({
    answers: { ...BASE, ...answers },
    languageCode: 'en',
    firstName: null,
    ...extra,
  });
}

const exercisesOf = (content: PlanContent) =>
  content.weeks.flatMap((w) => w.days.flatMap((d) => d.exercises));
const weekSets = (content: PlanContent, week: number) =>
  content.weeks[week - 1]!.days.flatMap((d) => d.exercises).reduce((acc, e) => acc + e.sets, 0);
const strengthCount = (content: PlanContent) =>
  content.weeks[0]!.days.flatMap((d) => d.exercises).filter((e) => {
    const pattern = findExercise(e.name)?.pattern;
    return pattern !== 'cardio' && pattern !== 'mobility';
  }).length;

const EQUIPMENT_SETS: SurveyAnswers['equipment'][] = [
  ['none'],
  ['dumbbells'],
  ['bands', 'kettlebell'],
  ['barbell', 'dumbbells'],
  ['gym'],
];

test('the library is a sound catalogue', (t) => {
  const names = EXERCISE_LIBRARY.map((e) => e.name);
  t.true(names.length >= 50 && names.length <= 75);
  t.is(new Set(names).size, names.length);
  for (const e of EXERCISE_LIBRARY) t.true((EQUIPMENT as readonly string[]).includes(e.equipment), e.name);
});

test('every answer combination yields a valid plan that follows the answers', (t) => {
  let checked = 0;
  for (const goal of GOALS) {
    for (const experience of EXPERIENCE_LEVELS) {
      for (let daysPerWeek = 1; daysPerWeek <= 7; daysPerWeek++) {
        for (const equipment of EQUIPMENT_SETS) {
          for (const sessionMinutes of [15, 45, 120]) {
            const answers = { goal, experience, daysPerWeek, equipment, sessionMinutes };
            const label = JSON.stringify(answers);
            const content = plan(answers);
            t.notThrows(() => planContentSchema.parse(content), label);
            t.is(content.weeks.length, 4, label);
            t.true(content.guidelines.length >= 3 && content.guidelines.length <= 8, label);
            for (const week of content.weeks) {
              t.deepEqual(
                week.days.map((d) => d.day),
                Array.from({ length: daysPerWeek }, (_, i) => i + 1),
                label,
              );
              for (const day of week.days) {
                t.true(day.durationMinutes <= sessionMinutes, `${label} week ${week.week} day ${day.day}`);
                if (sessionMinutes >= 30) t.true(day.durationMinutes >= sessionMinutes * 0.8, label);
              }
            }
            for (const e of exercisesOf(content)) {
              const item = findExercise(e.name);
              t.truthy(item, `${e.name} is in the library`);
              t.true(isAvailable(item!, equipment), `${e.name} needs ${item?.equipment} (${label})`);
              if (experience === 'beginner')
                t.true(item!.difficulty <= 2, `${e.name} too hard for a beginner`);
            }
            t.true(weekSets(content, 4) < weekSets(content, 3), `deload is lighter (${label})`);
            checked++;
          }
        }
      }
    }
  }
  t.is(checked, 4 * 3 * 7 * 5 * 3);
});

test('a bodyweight-only client never gets barbell, gym or dumbbell work', (t) => {
  for (const goal of GOALS) {
    const content = plan({
      goal,
      equipment: ['none'],
      experience: 'advanced',
      daysPerWeek: 5,
      sessionMinutes: 90,
    });
    for (const e of exercisesOf(content)) t.is(findExercise(e.name)?.equipment, 'none', e.name);
  }
});

test('the split matches the number of training days', (t) => {
  t.regex(plan({ daysPerWeek: 2 }).weeks[0]!.days[0]!.title, /Full body/);
  t.deepEqual(
    plan({ daysPerWeek: 4 }).weeks[0]!.days.map((d) => d.title),
    ['Upper body A', 'Lower body A', 'Upper body B', 'Lower body B'],
  );
  t.regex(plan({ daysPerWeek: 6 }).weeks[0]!.days[0]!.title, /Push/);
  const seven = plan({ daysPerWeek: 7 }).weeks[0]!.days;
  t.true(seven.filter((d) => /recovery/i.test(d.title)).length >= 1);
});

const injuryCases: [string, BodyArea][] = [
  ['bad left knee', 'knee'],
  ['болит колено', 'knee'],
  ['herniated disc in the lower back', 'lower_back'],
  ['болит поясница', 'lower_back'],
  ['травма плеча', 'shoulder'],
  ['sprained wrist', 'wrist'],
  ['растяжение голеностопа', 'ankle'],
  ['болит шея', 'neck'],
  ['боль в тазобедренном суставе', 'hip'],
];

for (const [injuries, area] of injuryCases) {
  test(`"${injuries}" removes every exercise that stresses the ${area}`, (t) => {
    for (const equipment of EQUIPMENT_SETS) {
      const content = plan({ injuries, equipment, daysPerWeek: 4, sessionMinutes: 75 });
      planContentSchema.parse(content);
      for (const e of exercisesOf(content)) t.false(findExercise(e.name)!.stresses.includes(area), e.name);
      t.true(content.guidelines.some((g) => /doctor|physio|врач/i.test(g)));
    }
  });
}

test('a knee injury changes the plan and adds guidelines about it', (t) => {
  const healthy = plan();
  const injured = plan({ injuries: 'Torn meniscus in my right knee' });
  t.notDeepEqual(exercisesOf(healthy), exercisesOf(injured));
  t.true(injured.guidelines.some((g) => /knees/.test(g)));
  t.true(injured.guidelines.some((g) => /doctor or physiotherapist/.test(g)));
  t.false(healthy.guidelines.some((g) => /doctor/.test(g)));
});

test('an unrecognised health issue still gets the doctor guideline, "none" does not', (t) => {
  t.true(plan({ injuries: 'asthma' }).guidelines.some((g) => /doctor/.test(g)));
  t.false(plan({ injuries: 'none' }).guidelines.some((g) => /doctor/.test(g)));
  t.false(plan({ injuries: 'нет' }).guidelines.some((g) => /doctor/.test(g)));
});

test('the same answers always give the same plan', (t) => {
  const answers: Partial<SurveyAnswers> = {
    goal: 'endurance',
    daysPerWeek: 5,
    equipment: ['gym'],
    injuries: 'knee',
  };
  t.deepEqual(plan(answers), plan(answers));
});

test('weeks 1-3 progress and week 4 is a deload', (t) => {
  for (const goal of GOALS) {
    const content = plan({ goal });
    const [w1, w2, w3] = [1, 2, 3].map((w) => content.weeks[w - 1]!.days[0]!.exercises[0]!);
    t.true(w2!.restSeconds < w1!.restSeconds || w2!.sets > w1!.sets, goal);
    t.true(w3!.sets > w2!.sets, goal);
    t.true(weekSets(content, 4) < weekSets(content, 3), goal);
    t.regex(content.weeks[3]!.focus, /deload/i);
  }
});

test('beginners get fewer sets than advanced clients', (t) => {
  for (const goal of GOALS) {
    for (const sessionMinutes of [30, 60, 90]) {
      const beginner = plan({ goal, sessionMinutes, experience: 'beginner' });
      const advanced = plan({ goal, sessionMinutes, experience: 'advanced', equipment: ['dumbbells'] });
      t.true(weekSets(beginner, 2) < weekSets(advanced, 2), `${goal} ${sessionMinutes}`);
    }
  }
});

test('longer sessions hold more exercises', (t) => {
  for (const goal of GOALS) {
    t.true(
      strengthCount(plan({ goal, sessionMinutes: 30 })) < strengthCount(plan({ goal, sessionMinutes: 90 })),
    );
    t.true(
      strengthCount(plan({ goal, sessionMinutes: 15 })) < strengthCount(plan({ goal, sessionMinutes: 45 })),
    );
  }
});

test('the goal shapes reps, rest and cardio', (t) => {
  const muscle = plan({ goal: 'build_muscle', experience: 'intermediate' });
  const first = muscle.weeks[1]!.days[0]!.exercises[0]!;
  t.is(first.reps, '8-12');
  t.true(first.restSeconds >= 60 && first.restSeconds <= 90);

  const fatLoss = plan({ goal: 'lose_weight' });
  const day = fatLoss.weeks[1]!.days[0]!;
  t.regex(day.exercises[0]!.reps, /12-15/);
  t.true(day.exercises[0]!.restSeconds <= 45);
  t.true(
    day.exercises.some((e) => /hard/.test(e.reps)),
    'interval finisher',
  );
  t.true(day.exercises.some((e) => /circuit/i.test(e.notes ?? '')));

  const endurance = plan({ goal: 'endurance' });
  const notes = exercisesOf(endurance).map((e) => e.notes ?? '');
  t.true(notes.some((n) => /Intervals/.test(n)));
  t.true(notes.some((n) => /Tempo/.test(n)));
  t.regex(endurance.weeks[1]!.days[0]!.exercises[0]!.reps, /15-20/);
});

test('older or sedentary clients start more gently', (t) => {
  for (const gentle of [{ age: 67 }, { activityLevel: 'sedentary' as const }]) {
    const content = plan(gentle);
    t.true(weekSets(content, 1) < weekSets(plan(), 1));
    t.regex(content.weeks[0]!.focus, /gentle/i);
    t.true(content.guidelines.some((g) => /gentle/i.test(g)));
  }
});

test('the summary names the client, goal, frequency and session length', (t) => {
  const content = plan({ goal: 'lose_weight', daysPerWeek: 4, sessionMinutes: 50 }, { firstName: 'Maria' });
  t.regex(content.summary, /^Maria, /);
  t.regex(content.summary, /lose weight/);
  t.regex(content.summary, /4 training days a week/);
  t.regex(content.summary, /50 minutes/);
  const sentences = plan().summary.split(/(?<=[.!?])\s+/);
  t.true(sentences.length >= 2 && sentences.length <= 4);
});

test('Russian-speaking clients get the plan text in Russian', (t) => {
  const content = plan(
    { daysPerWeek: 2, injuries: 'болит колено' },
    { languageCode: 'ru-RU', firstName: 'Иван' },
  );
  t.regex(content.summary, /^Иван, этот 4-недельный план/);
  t.regex(content.summary, /2 тренировки в неделю/);
  t.regex(content.weeks[0]!.days[0]!.title, /[а-я]/i);
  t.regex(content.weeks[3]!.focus, /разгрузочная/);
  t.regex(content.weeks[0]!.days[0]!.warmup, /мин/);
  for (const g of content.guidelines) t.regex(g, /[а-я]/i);
  t.true(content.guidelines.some((g) => /колени/.test(g)));
});

test('the offline provider wraps the generator', async (t) => {
  const provider = createOfflinePlanProvider();
  t.is(provider.name, 'offline');
  const request: PlanRequest = { answers: BASE, languageCode: null, firstName: null };
  t.deepEqual(await provider.generatePlan(request), generateOfflinePlan(request));
  const controller = new AbortController();
  controller.abort();
  await t.throwsAsync(provider.generatePlan({ ...request, signal: controller.signal }));
});
