import type { SurveyAnswers } from '../domain/survey-answers.ts';
import type { PlanContent } from './plan-content.ts';

/**
 * One interface for every way of producing a plan. Providers never retry: the plans queue owns
 * retries, so a provider reports *why* it failed through the error classes in ai-errors.ts.
 */
export interface PlanProvider {
  readonly name: 'openai' | 'offline';
  generatePlan(input: PlanRequest): Promise<PlanContent>;
}

export interface PlanRequest {
  answers: SurveyAnswers;
  /** Client's language from Telegram (e.g. "ru"), so the plan can be written in it. */
  languageCode: string | null;
  firstName: string | null;
  signal?: AbortSignal;
}
