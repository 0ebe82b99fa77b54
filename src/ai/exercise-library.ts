import type { EQUIPMENT } from '../domain/survey-answers.ts';

export type Equipment = (typeof EQUIPMENT)[number];

export const MOVEMENT_PATTERNS = [
  'squat',
  'hinge',
  'push_horizontal',
  'push_vertical',
  'pull_horizontal',
  'pull_vertical',
  'lunge',
  'core',
  'carry',
  'cardio',
  'mobility',
] as const;
export type MovementPattern = (typeof MOVEMENT_PATTERNS)[number];

export const BODY_AREAS = ['knee', 'lower_back', 'shoulder', 'wrist', 'ankle', 'neck', 'hip'] as const;
export type BodyArea = (typeof BODY_AREAS)[number];

export interface LibraryExercise {
  readonly name: string;
  readonly pattern: MovementPattern;
  /** The one piece of kit the exercise needs; 'none' means bodyweight (a chair or a wall at most). */
  readonly equipment: Equipment;
  /** Joints that take enough load that an injury there should rule the exercise out. */
  readonly stresses: readonly BodyArea[];
  readonly difficulty: 1 | 2 | 3;
  /** Prescribed in seconds/minutes rather than repetitions. */
  readonly timed: boolean;
  /** Done one side at a time, so a set takes roughly half as long again. */
  readonly unilateral: boolean;
}

type Flag = 'timed' | 'unilateral';

function ex(
  name: string,
  pattern: MovementPattern,
  equipment: Equipment,
  stresses: BodyArea[],
  difficulty: 1 | 2 | 3,
  ...flags: Flag[]
): LibraryExercise {
  return {
    name,
    pattern,
    equipment,
    stresses,
    difficulty,
    timed: flags.includes('timed'),
    unilateral: flags.includes('unilateral'),
  };
}

// Order matters: the generator breaks ties by position, so the friendlier option of each kind comes first.
export const EXERCISE_LIBRARY: readonly LibraryExercise[] = [
  // squat
  ex('Chair sit-to-stand', 'squat', 'none', ['knee'], 1),
  ex('Bodyweight squat', 'squat', 'none', ['knee'], 1),
  ex('Goblet squat', 'squat', 'dumbbells', ['knee'], 1),
  ex('Kettlebell goblet squat', 'squat', 'kettlebell', ['knee'], 2),
  ex('Leg press', 'squat', 'gym', ['knee'], 1),
  ex('Jump squat', 'squat', 'none', ['knee', 'ankle'], 3),
  ex('Pistol squat to box', 'squat', 'none', ['knee', 'ankle'], 3, 'unilateral'),
  ex('Barbell back squat', 'squat', 'barbell', ['knee', 'lower_back'], 3),
  // hinge
  ex('Glute bridge', 'hinge', 'none', [], 1),
  ex('Single-leg glute bridge', 'hinge', 'none', ['hip'], 2, 'unilateral'),
  ex('Band pull-through', 'hinge', 'bands', ['hip'], 1),
  ex('Kettlebell deadlift', 'hinge', 'kettlebell', ['lower_back'], 1),
  ex('Kettlebell swing', 'hinge', 'kettlebell', ['lower_back', 'hip'], 2),
  ex('Dumbbell Romanian deadlift', 'hinge', 'dumbbells', ['lower_back', 'hip'], 2),
  ex('Seated leg curl', 'hinge', 'gym', ['knee'], 1),
  ex('Barbell Romanian deadlift', 'hinge', 'barbell', ['lower_back', 'hip'], 2),
  ex('Barbell deadlift', 'hinge', 'barbell', ['lower_back', 'hip'], 3),
  // horizontal push
  ex('Incline push-up', 'push_horizontal', 'none', ['wrist', 'shoulder'], 1),
  ex('Push-up', 'push_horizontal', 'none', ['wrist', 'shoulder'], 2),
  ex('Decline push-up', 'push_horizontal', 'none', ['wrist', 'shoulder'], 3),
  ex('Band chest press', 'push_horizontal', 'bands', ['shoulder'], 1),
  ex('Dumbbell floor press', 'push_horizontal', 'dumbbells', ['shoulder'], 1),
  ex('Machine chest press', 'push_horizontal', 'gym', ['shoulder'], 1),
  ex('Barbell bench press', 'push_horizontal', 'gym', ['shoulder', 'wrist'], 3),
  // vertical push
  ex('Band overhead press', 'push_vertical', 'bands', ['shoulder'], 1),
  ex('Pike push-up', 'push_vertical', 'none', ['shoulder', 'wrist', 'neck'], 2),
  ex('Dumbbell shoulder press', 'push_vertical', 'dumbbells', ['shoulder'], 2),
  ex('Kettlebell overhead press', 'push_vertical', 'kettlebell', ['shoulder', 'wrist'], 2, 'unilateral'),
  ex('Barbell overhead press', 'push_vertical', 'barbell', ['shoulder', 'lower_back'], 3),
  ex('Wall handstand push-up', 'push_vertical', 'none', ['shoulder', 'wrist', 'neck'], 3),
  // horizontal pull
  ex('Prone Y-T raise', 'pull_horizontal', 'none', ['shoulder'], 1),
  ex('Band row', 'pull_horizontal', 'bands', [], 1),
  ex('Kettlebell row', 'pull_horizontal', 'kettlebell', ['lower_back'], 1, 'unilateral'),
  ex('One-arm dumbbell row', 'pull_horizontal', 'dumbbells', ['lower_back'], 1, 'unilateral'),
  ex('Seated cable row', 'pull_horizontal', 'gym', ['lower_back'], 1),
  ex('Chest-supported dumbbell row', 'pull_horizontal', 'gym', [], 1),
  ex('Inverted row under a table', 'pull_horizontal', 'none', ['shoulder', 'wrist'], 2),
  ex('Barbell bent-over row', 'pull_horizontal', 'barbell', ['lower_back'], 2),
  // vertical pull
  ex('Prone floor pulldown', 'pull_vertical', 'none', ['shoulder'], 1),
  ex('Band lat pulldown', 'pull_vertical', 'bands', ['shoulder'], 1),
  ex('Dumbbell floor pullover', 'pull_vertical', 'dumbbells', ['shoulder'], 1),
  ex('Lat pulldown', 'pull_vertical', 'gym', ['shoulder'], 1),
  ex('Pull-up', 'pull_vertical', 'gym', ['shoulder', 'wrist'], 3),
  // lunge
  ex('Step-up', 'lunge', 'none', ['knee'], 1, 'unilateral'),
  ex('Reverse lunge', 'lunge', 'none', ['knee'], 1, 'unilateral'),
  ex('Lateral lunge', 'lunge', 'none', ['knee', 'hip'], 2, 'unilateral'),
  ex('Dumbbell reverse lunge', 'lunge', 'dumbbells', ['knee'], 2, 'unilateral'),
  ex('Bulgarian split squat', 'lunge', 'none', ['knee', 'hip'], 3, 'unilateral'),
  ex('Dumbbell Bulgarian split squat', 'lunge', 'dumbbells', ['knee', 'hip'], 3, 'unilateral'),
  // core
  ex('Dead bug', 'core', 'none', [], 1),
  ex('Bird dog', 'core', 'none', ['wrist'], 1, 'unilateral'),
  ex('Pallof press', 'core', 'bands', [], 1),
  ex('Forearm plank', 'core', 'none', ['shoulder'], 1, 'timed'),
  ex('Side plank', 'core', 'none', ['shoulder'], 2, 'timed', 'unilateral'),
  ex('Hollow body hold', 'core', 'none', ['lower_back'], 3, 'timed'),
  ex('Hanging knee raise', 'core', 'gym', ['shoulder', 'wrist'], 3),
  // carry
  ex("Farmer's carry", 'carry', 'dumbbells', ['wrist'], 1, 'timed'),
  ex('Suitcase carry', 'carry', 'kettlebell', ['wrist'], 2, 'timed', 'unilateral'),
  ex('Bear crawl', 'carry', 'none', ['wrist', 'shoulder'], 2, 'timed'),
  // cardio
  ex('Brisk walk', 'cardio', 'none', [], 1, 'timed'),
  ex('Shadow boxing', 'cardio', 'none', ['shoulder'], 1, 'timed'),
  ex('Jumping jacks', 'cardio', 'none', ['knee', 'ankle'], 1, 'timed'),
  ex('Stationary bike', 'cardio', 'gym', ['knee'], 1, 'timed'),
  ex('Elliptical trainer', 'cardio', 'gym', [], 1, 'timed'),
  ex('Mountain climbers', 'cardio', 'none', ['wrist', 'shoulder'], 2, 'timed'),
  ex('Rowing machine', 'cardio', 'gym', ['lower_back'], 2, 'timed'),
  ex('Burpees', 'cardio', 'none', ['wrist', 'shoulder', 'knee', 'lower_back'], 3, 'timed'),
  // mobility
  ex('Diaphragmatic breathing', 'mobility', 'none', [], 1, 'timed'),
  ex('Open-book thoracic rotation', 'mobility', 'none', [], 1, 'timed', 'unilateral'),
  ex('Cat-cow', 'mobility', 'none', ['wrist'], 1, 'timed'),
  ex('Half-kneeling hip flexor stretch', 'mobility', 'none', ['knee'], 1, 'timed', 'unilateral'),
  ex("World's greatest stretch", 'mobility', 'none', ['hip', 'wrist'], 2, 'timed', 'unilateral'),
];

const BY_NAME = new Map(EXERCISE_LIBRARY.map((item) => [item.name, item]));

export function findExercise(name: string): LibraryExercise | undefined {
  return BY_NAME.get(name);
}

// A gym has racks, dumbbells and kettlebells too; bands are not assumed because cables replace them.
const GYM_INCLUDES: readonly Equipment[] = ['gym', 'barbell', 'dumbbells', 'kettlebell'];

export function isAvailable(exercise: LibraryExercise, owned: readonly Equipment[]): boolean {
  if (exercise.equipment === 'none' || owned.includes(exercise.equipment)) return true;
  return owned.includes('gym') && GYM_INCLUDES.includes(exercise.equipment);
}
