import type { SurveyAnswers } from '../domain/survey-answers.ts';
import {
  type BodyArea,
  EXERCISE_LIBRARY,
  isAvailable,
  type LibraryExercise,
  type MovementPattern,
} from './exercise-library.ts';
import { findInjuries } from './injury-keywords.ts';
import {
  DAY_TEMPLATES,
  type DayKind,
  DELOAD,
  type Finisher,
  GOAL_RULES,
  type GoalRules,
  LEVEL_RULES,
  type LevelRules,
  REST_DELTA,
  SET_DELTA,
  SETUP_SECONDS,
  SPLITS,
  WEEKS,
} from './offline-plan-rules.ts';
import { type Lang, TEXTS, type Texts } from './offline-plan-texts.ts';
import type { DayPlan, Exercise, PlanContent } from './plan-content.ts';
import type { PlanProvider, PlanRequest } from './plan-provider.ts';

interface Ctx {
  a: SurveyAnswers;
  t: Texts;
  goal: GoalRules;
  level: LevelRules;
  gentle: boolean;
  hasLoad: boolean;
  excluded: ReadonlySet<BodyArea>;
  warmup: number;
  cooldown: number;
}

interface Slot {
  exercise: Exercise;
  seconds: number;
}

interface DayDraft {
  kind: DayKind;
  title: string;
  strength: LibraryExercise[];
  finisher: { item: LibraryExercise; kind: Finisher } | null;
  filler: LibraryExercise | undefined;
}

export function generateOfflinePlan(request: PlanRequest): PlanContent {
  const a = request.answers;
  const lang: Lang = request.languageCode?.toLowerCase().startsWith('ru') ? 'ru' : 'en';
  const { injured, areas } = findInjuries(a.injuries);
  const gentle = a.age >= 60 || a.activityLevel === 'sedentary';
  const session = a.sessionMinutes;
  const ctx: Ctx = {
    a,
    t: TEXTS[lang],
    goal: GOAL_RULES[a.goal],
    level: LEVEL_RULES[a.experience],
    gentle,
    hasLoad: a.equipment.some((item) => item !== 'none'),
    excluded: new Set(areas),
    warmup:
      (session <= 20 ? 3 : session < 45 ? 5 : session < 75 ? 7 : 10) + (gentle && session >= 30 ? 2 : 0),
    cooldown: session <= 20 ? 2 : session < 45 ? 3 : 5,
  };

  const kinds = SPLITS[Math.min(7, Math.max(1, a.daysPerWeek))]!;
  const turns = new Map<string, number>();
  const drafts = kinds.map((kind, index) => draftDay(ctx, kind, index, turns, kinds));
  const weeks = Array.from({ length: WEEKS }, (_, week) => ({
    week: week + 1,
    focus: ctx.t.focus[week === 0 && gentle ? 4 : week]!,
    days: drafts.map((draft, index) => buildDay(ctx, draft, index, week)),
  }));

  return {
    summary: ctx.t.summary(request.firstName?.trim().slice(0, 40) || null, a, areas),
    weeks,
    guidelines: guidelines(ctx, injured, areas),
  };
}

export function createOfflinePlanProvider(): PlanProvider {
  return {
    name: 'offline',
    async generatePlan(input) {
      input.signal?.throwIfAborted();
      return generateOfflinePlan(input);
    },
  };
}

function pick(ctx: Ctx, pattern: MovementPattern, target: number, used: Set<string>, turn: number) {
  const pool = EXERCISE_LIBRARY.filter(
    (item) =>
      item.pattern === pattern &&
      !used.has(item.name) &&
      item.difficulty <= ctx.level.maxDiff &&
      isAvailable(item, ctx.a.equipment) &&
      !item.stresses.some((area) => ctx.excluded.has(area)),
  );
  // Bodyweight moves are always allowed, but someone who owns kit expects to use it for the main lifts.
  const loadable = !['core', 'cardio', 'mobility'].includes(pattern);
  const ranked = pool
    .map((item) => ({
      item,
      score:
        Math.abs(item.difficulty - target) + (loadable && ctx.hasLoad && item.equipment === 'none' ? 2.5 : 0),
    }))
    .sort((x, y) => x.score - y.score);
  const best = ranked[0]?.score ?? 0;
  const top = ranked.filter((entry) => entry.score <= best + 1);
  return top.length ? top[turn % top.length]!.item : undefined;
}

function draftDay(ctx: Ctx, kind: DayKind, index: number, turns: Map<string, number>, kinds: DayKind[]) {
  const used = new Set<string>();
  const session = ctx.a.sessionMinutes;
  const take = (pattern: MovementPattern, target: number) => {
    const item = pick(ctx, pattern, target, used, turns.get(pattern) ?? 0);
    if (item) {
      used.add(item.name);
      turns.set(pattern, (turns.get(pattern) ?? 0) + 1);
    }
    return item;
  };

  let finisher: DayDraft['finisher'] = null;
  const finisherKind: Finisher =
    ctx.goal.finisher === 'intervals' && index % 2 === 1 ? 'steady' : ctx.goal.finisher;
  if (kind !== 'recovery' && finisherKind !== 'none' && session >= 25) {
    const item = take('cardio', finisherKind === 'steady' ? 1 : ctx.level.target);
    if (item) finisher = { item, kind: finisherKind };
  }
  const reserved = finisher
    ? Math.max(...[0, 1, 2, 3].map((w) => finisherSlot(ctx, finisher, w).seconds))
    : 0;
  const budget = (session - ctx.warmup - ctx.cooldown) * 60 - reserved;
  const cost = (items: LibraryExercise[]) =>
    Math.max(...[0, 1, 2, 3].map((w) => sum(prescribe(ctx, kind, items, w).map((slot) => slot.seconds))));

  // Repeat the template so long sessions get more variations of the same patterns.
  const strength: LibraryExercise[] = [];
  const cap = kind === 'recovery' ? 6 : ctx.level.cap;
  for (let pass = 0; pass < 3 && strength.length < cap; pass++) {
    for (const pattern of DAY_TEMPLATES[kind]) {
      if (strength.length >= cap) break;
      const item = pick(
        ctx,
        pattern,
        kind === 'recovery' ? 1 : ctx.level.target,
        used,
        turns.get(pattern) ?? 0,
      );
      if (!item || cost([...strength, item]) > budget) continue;
      strength.push(item);
      used.add(item.name);
      turns.set(pattern, (turns.get(pattern) ?? 0) + 1);
    }
  }

  const filler =
    pick(ctx, 'cardio', 1, used, 0) ??
    pick(ctx, 'cardio', 1, new Set(), 0) ??
    pick(ctx, 'mobility', 1, used, 0);
  const repeat = kinds.filter((other) => other === kind).length > 1;
  const letter = repeat
    ? ` ${kinds.slice(0, index + 1).filter((other) => other === kind).length === 1 ? 'A' : 'B'}`
    : '';
  return { kind, title: `${ctx.t.titles[kind]}${letter}`, strength, finisher, filler } satisfies DayDraft;
}

function prescribe(ctx: Ctx, kind: DayKind, items: LibraryExercise[], week: number): Slot[] {
  const { goal, level, t } = ctx;
  return items.map((item, i) => {
    if (kind === 'recovery') {
      const reps = item.unilateral ? t.perSide(t.sec('45')) : t.sec('45');
      return slot(
        item.name,
        2,
        reps,
        15,
        45 * (item.unilateral ? 1.5 : 1),
        i === 0 ? t.notes.mobility : null,
      );
    }
    const gentleStart = week === 0 && ctx.gentle;
    const sets = clamp(level.sets + SET_DELTA[week]! - (gentleStart ? 1 : 0), 1, 10);
    const superset = level.supersets && !goal.circuit && i % 2 === 0 && i + 1 < items.length;
    const accessory = item.pattern === 'core' || item.pattern === 'carry';
    const baseRest = (accessory ? goal.accessoryRest : goal.rest) * level.restFactor;
    let rest = Math.max(15, round5(baseRest + REST_DELTA[week]! + (gentleStart ? 15 : 0)));
    // Short sessions only work as dense circuits, so rests are capped.
    if (ctx.a.sessionMinutes < 30) rest = Math.min(rest, 45);
    if (superset) rest = 15;
    let reps = goal.reps;
    if (item.pattern === 'mobility') reps = t.sec('45');
    else if (item.pattern === 'carry') reps = t.sec('40');
    else if (item.timed) reps = t.sec(goal.hold);
    if (item.unilateral) reps = t.perSide(reps);
    const work = (goal.work + level.extraWork) * (item.unilateral ? 1.5 : 1);
    const note = superset ? t.notes.superset : goal.circuit && i === 0 ? t.notes.circuit : null;
    return slot(item.name, sets, reps, rest, work, note);
  });
}

function finisherSlot(ctx: Ctx, finisher: NonNullable<DayDraft['finisher']>, week: number): Slot {
  const { t } = ctx;
  const session = ctx.a.sessionMinutes;
  const name = finisher.item.name;
  if (finisher.kind === 'steady') {
    const base = clamp(Math.round(session * (ctx.a.goal === 'endurance' ? 0.2 : 0.12)), 5, 30);
    const minutes = [base, base + 2, base + 4, Math.round(base * 0.6)][week]!;
    const note = ctx.a.goal === 'endurance' ? t.notes.tempo : t.notes.steady;
    return { exercise: exercise(name, 1, t.min(minutes), 0, note), seconds: minutes * 60 };
  }
  const sprint = finisher.kind === 'sprint';
  const base = sprint ? clamp(Math.round(session / 12), 3, 7) : clamp(Math.round(session / 20), 2, 6);
  const rounds = [base, base + 1, base + 2, Math.max(2, base - 2)][week]!;
  const reps = sprint ? t.sprint : t.intervals;
  const note = sprint ? t.notes.sprint : t.notes.intervals;
  return { exercise: exercise(name, rounds, reps, 0, note), seconds: rounds * (sprint ? 60 : 120) };
}

function buildDay(ctx: Ctx, draft: DayDraft, index: number, week: number): DayPlan {
  const slots = prescribe(ctx, draft.kind, draft.strength, week);
  if (draft.finisher) slots.push(finisherSlot(ctx, draft.finisher, week));
  const limit = ctx.a.sessionMinutes * 60;
  let total = (ctx.warmup + ctx.cooldown) * 60 + sum(slots.map((s) => s.seconds));
  // Lighter weeks (and gaps the next exercise could not fill) become easy aerobic work, so the
  // session still takes the time the client set aside.
  const spare = Math.floor((limit - total) / 60);
  if (draft.filler && total < limit * 0.85 && spare >= 3 && slots.length < 15) {
    const note = week === DELOAD ? ctx.t.notes.fillerDeload : ctx.t.notes.filler;
    slots.push({ exercise: exercise(draft.filler.name, 1, ctx.t.min(spare), 0, note), seconds: spare * 60 });
    total += spare * 60;
  }
  const recovery = draft.kind === 'recovery';
  return {
    day: index + 1,
    title: draft.title,
    durationMinutes: Math.max(5, Math.round(total / 60)),
    warmup: ctx.t.warmup(ctx.warmup, recovery),
    exercises: slots.map((s) => s.exercise),
    cooldown: ctx.t.cooldown(ctx.cooldown),
  };
}

function guidelines(ctx: Ctx, injured: boolean, areas: BodyArea[]): string[] {
  const { t, a } = ctx;
  const lines = [t.guide.warmup, ctx.hasLoad ? t.guide.progressLoad : t.guide.progressBodyweight];
  lines.push(t.guide.nutrition(a.goal, a.weightKg));
  if (areas.length) lines.push(t.guide.injury(t.list(areas.map((area) => t.areas[area]))));
  if (injured) lines.push(t.guide.doctor);
  if (ctx.gentle) lines.push(t.guide.gentle);
  lines.push(t.guide.recovery);
  return lines;
}

function slot(
  name: string,
  sets: number,
  reps: string,
  rest: number,
  work: number,
  note: string | null,
): Slot {
  return { exercise: exercise(name, sets, reps, rest, note), seconds: sets * (work + rest) + SETUP_SECONDS };
}

function exercise(
  name: string,
  sets: number,
  reps: string,
  restSeconds: number,
  notes: string | null,
): Exercise {
  return { name, sets, reps, restSeconds, notes };
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));
const round5 = (value: number) => Math.round(value / 5) * 5;
const sum = (values: number[]) => values.reduce((acc, value) => acc + value, 0);
