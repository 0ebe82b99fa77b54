import { ApplicationSchema } from './application.entity.ts';
import { AuditLogSchema } from './audit-log.entity.ts';
import { BroadcastSchema } from './broadcast.entity.ts';
import { MetricsSnapshotSchema } from './metrics-snapshot.entity.ts';
import { NotificationSchema } from './notification.entity.ts';
import { OutboxSchema } from './outbox.entity.ts';
import { PanelSessionSchema } from './panel-session.entity.ts';
import { PersonalPlanSchema } from './personal-plan.entity.ts';
import { StarPaymentSchema } from './star-payment.entity.ts';
import { SubscriptionSchema } from './subscription.entity.ts';
import { SubscriptionEventSchema } from './subscription-event.entity.ts';
import { SubscriptionPlanSchema } from './subscription-plan.entity.ts';
import { SurveySchema } from './survey.entity.ts';
import { TelegramUserSchema } from './telegram-user.entity.ts';
import { TenantSchema } from './tenant.entity.ts';
import { TestResultSchema } from './test-result.entity.ts';

export { Application } from './application.entity.ts';
export { AuditLog } from './audit-log.entity.ts';
export { Broadcast } from './broadcast.entity.ts';
export { MetricsSnapshot } from './metrics-snapshot.entity.ts';
export { Notification } from './notification.entity.ts';
export { Outbox } from './outbox.entity.ts';
export { PanelSession } from './panel-session.entity.ts';
export { PersonalPlan } from './personal-plan.entity.ts';
export { StarPayment } from './star-payment.entity.ts';
export { Subscription } from './subscription.entity.ts';
export { SubscriptionEvent } from './subscription-event.entity.ts';
export { SubscriptionPlan } from './subscription-plan.entity.ts';
export { Survey } from './survey.entity.ts';
export { TelegramUser } from './telegram-user.entity.ts';
export { Tenant } from './tenant.entity.ts';
export { TestResult } from './test-result.entity.ts';

export const allEntities = [
  TenantSchema,
  TelegramUserSchema,
  SurveySchema,
  ApplicationSchema,
  PersonalPlanSchema,
  OutboxSchema,
  NotificationSchema,
  BroadcastSchema,
  AuditLogSchema,
  SubscriptionPlanSchema,
  SubscriptionSchema,
  StarPaymentSchema,
  SubscriptionEventSchema,
  MetricsSnapshotSchema,
  TestResultSchema,
  PanelSessionSchema,
];

/** Entities scoped by the tenant filter (everything but the tenant table itself). */
export const tenantScopedEntities = allEntities.filter((schema) => schema !== TenantSchema);
