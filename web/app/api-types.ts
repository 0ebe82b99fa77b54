/** What the API answers (docs/api.md), as the Mini App reads it. */

export type PlanStatus = 'queued' | 'generating' | 'ready' | 'failed';

export interface Exercise {
  name: string;
  sets: number;
  reps: string;
  restSeconds: number;
  notes: string | null;
}

export interface DayPlan {
  day: number;
  title: string;
  durationMinutes: number;
  warmup: string;
  exercises: Exercise[];
  cooldown: string;
}

export interface WeekPlan {
  week: number;
  focus: string;
  days: DayPlan[];
}

export interface PlanContent {
  summary: string;
  weeks: WeekPlan[];
  guidelines: string[];
}

export interface Plan {
  id: string;
  status: PlanStatus;
  content?: PlanContent;
  error?: string;
  createdAt: string;
  readyAt?: string;
}

export interface Subscription {
  planTitle: string;
  status: 'active' | 'cancelled' | 'expired' | 'refunded';
  currentPeriodEnd: string | null;
  renews: boolean;
}

export interface Me {
  telegramId: string;
  firstName: string;
  languageCode: string | null;
  isClient: boolean;
  subscription: Subscription | null;
  latestPlan: Plan | null;
}

export interface OfferedPlan {
  id: string;
  title: string;
  description: string;
  priceStars: number;
  periodDays: number;
}

export interface TestResult {
  id: string;
  kind: 'fitness_test' | 'check_in';
  recordedAt: string;
  results: Record<string, number>;
  notes: string | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Paid up now: the subscription is active, or cancelled but its paid period has not ended. */
export function isPaidUp(subscription: Subscription | null, now = Date.now()): boolean {
  if (!subscription) return false;
  if (subscription.status !== 'active' && subscription.status !== 'cancelled') return false;
  return !subscription.currentPeriodEnd || Date.parse(subscription.currentPeriodEnd) > now;
}
