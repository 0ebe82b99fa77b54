import { defineEntity, p } from '@mikro-orm/postgresql';

export const APPLICATION_STATUSES = ['new', 'accepted', 'rejected'] as const;
export type ApplicationStatus = (typeof APPLICATION_STATUSES)[number];

/** A new person's request to train with the coach, shown in the trainer panel. */
export const ApplicationSchema = defineEntity({
  name: 'Application',
  tableName: 'application',
  // The panel lists newest first, optionally by status, with a (created_at, id) keyset cursor.
  indexes: [
    { properties: ['tenantId', 'createdAt', 'id'] },
    { properties: ['tenantId', 'status', 'createdAt', 'id'] },
  ],
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    userId: p.uuid(),
    surveyId: p.uuid().unique(),
    status: p.enum(APPLICATION_STATUSES).default('new'),
    decidedAt: p.datetime().nullable(),
    decidedBy: p.uuid().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export class Application extends ApplicationSchema.class {}
ApplicationSchema.setClass(Application);
