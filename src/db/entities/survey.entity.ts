import { defineEntity, p } from '@mikro-orm/postgresql';
import type { SurveyAnswers } from '../../domain/survey-answers.ts';

export const SurveySchema = defineEntity({
  name: 'Survey',
  tableName: 'survey',
  // The daily quota counts a user's recent surveys.
  indexes: [{ properties: ['tenantId', 'userId', 'createdAt'] }],
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    userId: p.uuid(),
    answers: p.json<SurveyAnswers>(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export class Survey extends SurveySchema.class {}
SurveySchema.setClass(Survey);
