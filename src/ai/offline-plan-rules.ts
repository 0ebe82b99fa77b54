import type { SurveyAnswers } from '../domain/survey-answers.ts';
import type { MovementPattern } from './exercise-library.ts';

export type Goal = SurveyAnswers['goal'];
export type DayKind =
  | 'full_a'
  | 'full_b'
  | 'full_c'
  | 'upper'
  | 'lower'
  | 'push'
  | 'pull'
  | 'legs'
  | 'recovery';
export type Finisher = 'none' | 'sprint' | 'intervals' | 'steady';

export const WEEKS = 4;
export const DELOAD = 3;
/** Seconds to walk to the next station and set up; counted once per exercise. */
export const SETUP_SECONDS = 30;

export const SPLITS: Record<number, DayKind[]> = {
  1: ['full_a'],
  2: ['full_a', 'full_b'],
  3: ['full_a', 'full_b', 'full_c'],
  4: ['upper', 'lower', 'upper', 'lower'],
  5: ['upper', 'lower', 'push', 'pull', 'legs'],
  6: ['push', 'pull', 'legs', 'push', 'pull', 'legs'],
  7: ['push', 'pull', 'legs', 'recovery', 'upper', 'lower', 'recovery'],
};

// Slots in priority order: big compound lifts first, so short sessions keep the most valuable work.
export const DAY_TEMPLATES: Record<DayKind, MovementPattern[]> = {
  full_a: ['squat', 'push_horizontal', 'pull_horizontal', 'hinge', 'push_vertical', 'core', 'lunge', 'carry'],
  full_b: ['hinge', 'pull_vertical', 'push_vertical', 'lunge', 'push_horizontal', 'core', 'squat', 'carry'],
  full_c: ['lunge', 'push_horizontal', 'pull_horizontal', 'squat', 'pull_vertical', 'core', 'hinge', 'carry'],
  upper: ['push_horizontal', 'pull_horizontal', 'push_vertical', 'pull_vertical', 'core', 'carry'],
  lower: ['squat', 'hinge', 'lunge', 'core', 'carry'],
  push: ['push_horizontal', 'push_vertical', 'core'],
  pull: ['pull_horizontal', 'pull_vertical', 'hinge', 'carry'],
  legs: ['squat', 'hinge', 'lunge', 'core'],
  recovery: ['mobility', 'mobility', 'mobility', 'core', 'mobility', 'mobility'],
};

/** Set/rep/rest scheme per goal; `work` is the estimated seconds of work per set. */
export interface GoalRules {
  reps: string;
  hold: string;
  work: number;
  rest: number;
  accessoryRest: number;
  circuit: boolean;
  finisher: Finisher;
}

export const GOAL_RULES: Record<Goal, GoalRules> = {
  build_muscle: {
    reps: '8-12',
    hold: '30-45',
    work: 40,
    rest: 90,
    accessoryRest: 60,
    circuit: false,
    finisher: 'none',
  },
  lose_weight: {
    reps: '12-15',
    hold: '30',
    work: 45,
    rest: 30,
    accessoryRest: 30,
    circuit: true,
    finisher: 'sprint',
  },
  endurance: {
    reps: '15-20',
    hold: '45-60',
    work: 50,
    rest: 45,
    accessoryRest: 30,
    circuit: false,
    finisher: 'intervals',
  },
  general_health: {
    reps: '10-12',
    hold: '30',
    work: 40,
    rest: 60,
    accessoryRest: 45,
    circuit: false,
    finisher: 'steady',
  },
};

// Beginners get slower tempo and longer rests so the same session holds fewer sets; advanced lifters
// superset to fit more work in.
export interface LevelRules {
  sets: number;
  maxDiff: number;
  target: number;
  restFactor: number;
  extraWork: number;
  cap: number;
  supersets: boolean;
}

export const LEVEL_RULES: Record<SurveyAnswers['experience'], LevelRules> = {
  beginner: { sets: 2, maxDiff: 2, target: 1, restFactor: 1.25, extraWork: 10, cap: 8, supersets: false },
  intermediate: { sets: 3, maxDiff: 3, target: 2, restFactor: 1, extraWork: 0, cap: 10, supersets: false },
  advanced: { sets: 4, maxDiff: 3, target: 3, restFactor: 0.75, extraWork: 0, cap: 12, supersets: true },
};

// Weeks 1-3 add density (shorter rests) and then a set; week 4 drops volume to recover.
export const SET_DELTA = [0, 0, 1, -1];
export const REST_DELTA = [15, 0, -15, 0];
