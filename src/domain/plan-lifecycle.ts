import { raw } from '@mikro-orm/postgresql';
import type { PlanContent } from '../ai/plan-content.ts';
import type { Logger } from '../config/logger.ts';
import { PersonalPlan, TelegramUser } from '../db/entities/index.ts';
import type { EntityManager } from '../db/orm.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { LiveEventPublisher } from './live-events.ts';
import { triggerMetricsRecompute } from './metrics-trigger.ts';
import { type PlanFailureCause, planFailedMessage, planReadyMessage } from './notification-texts.ts';
import { queueClientMessage } from './notifications.ts';

/** What a plan's transitions cause besides the row: counters, the panel's live view, messages. */
export interface PlanEffects {
  metrics: Metrics;
  liveEvents: LiveEventPublisher;
  logger: Logger;
  miniAppUrl: string | undefined;
}

/** The panel's live view of a plan. */
function announce(
  effects: PlanEffects,
  tenantId: string,
  plan: Pick<PersonalPlan, 'id' | 'userId'>,
  status: 'generating' | 'ready' | 'failed',
): void {
  effects.liveEvents.publish(tenantId, { type: 'plan.status', planId: plan.id, userId: plan.userId, status });
}

const UNFINISHED = { $in: ['queued', 'generating'] as ('queued' | 'generating')[] };

/**
 * queued → generating → ready | failed, each transition in one place with its side effects, for
 * the job, the reconciler and anything else that moves a plan. Every transition is a conditional
 * update, so running one twice has the effect of running it once.
 */
export const planLifecycle = {
  /** queued | generating → generating (one more attempt); null when the plan is already finished. */
  async start(em: EntityManager, effects: PlanEffects, plan: PersonalPlan): Promise<Date | null> {
    const startedAt = plan.startedAt ?? new Date();
    const started = await em.nativeUpdate(
      PersonalPlan,
      { id: plan.id, status: UNFINISHED },
      { status: 'generating', attempts: raw('attempts + 1'), startedAt, updatedAt: new Date() },
    );
    if (started === 0) return null;
    if (plan.status === 'queued') {
      announce(effects, plan.tenantId, plan, 'generating');
    }
    return startedAt;
  },

  /** → ready, with the client's "plan ready" message, in one transaction; false if already finished. */
  async ready(
    em: EntityManager,
    effects: PlanEffects,
    input: {
      plan: PersonalPlan;
      user: TelegramUser;
      content: PlanContent;
      provider: string;
      startedAt: Date;
    },
  ): Promise<boolean> {
    const { plan, user } = input;
    const readyAt = new Date();
    const changed = await em.transactional(async (tx) => {
      const updated = await tx.nativeUpdate(
        PersonalPlan,
        { id: plan.id, status: UNFINISHED },
        {
          status: 'ready',
          content: input.content,
          error: null,
          provider: input.provider,
          readyAt,
          updatedAt: readyAt,
        },
      );
      if (updated === 0) return false;
      queueClientMessage(tx, {
        tenantId: plan.tenantId,
        user,
        kind: 'plan_ready',
        dedupeKey: `plan_ready:${plan.id}`,
        message: planReadyMessage(user.languageCode ?? null, user.firstName || null),
        miniAppUrl: effects.miniAppUrl,
        now: readyAt,
      });
      await tx.flush();
      await triggerMetricsRecompute(tx, plan.tenantId, readyAt);
      return true;
    });
    if (!changed) return false;
    effects.metrics.plans.inc({ status: 'ready' });
    // From the client's point of view: survey accepted (plan queued) to plan ready.
    effects.metrics.planGenerationSeconds.observe(
      { provider: input.provider },
      (readyAt.getTime() - plan.createdAt.getTime()) / 1000,
    );
    announce(effects, plan.tenantId, plan, 'ready');
    effects.logger.info(
      {
        event: 'plan_generated',
        planId: plan.id,
        provider: input.provider,
        seconds: (readyAt.getTime() - input.startedAt.getTime()) / 1000,
      },
      'plan ready',
    );
    return true;
  },

  /**
   * → failed, with one message telling the client why (in their language) and how to try again,
   * in one transaction; false if the plan was already finished (nothing is sent twice).
   */
  async fail(
    em: EntityManager,
    effects: PlanEffects,
    input: { tenantId: string; planId: string; cause: PlanFailureCause; detail: string },
  ): Promise<boolean> {
    const now = new Date();
    const plan = await em.transactional(async (tx) => {
      const row = await tx.findOne(
        PersonalPlan,
        { id: input.planId },
        { fields: ['id', 'userId', 'status'] },
      );
      if (!row || (row.status !== 'queued' && row.status !== 'generating')) return null;
      const user = await tx.findOneOrFail(TelegramUser, { id: row.userId });
      const message = planFailedMessage(input.cause, user.languageCode ?? null, user.firstName || null);
      const updated = await tx.nativeUpdate(
        PersonalPlan,
        { id: input.planId, status: UNFINISHED },
        { status: 'failed', error: message.text, updatedAt: now },
      );
      if (updated === 0) return null;
      queueClientMessage(tx, {
        tenantId: input.tenantId,
        user,
        kind: 'plan_failed',
        dedupeKey: `plan_failed:${input.planId}`,
        message,
        miniAppUrl: effects.miniAppUrl,
        now,
      });
      await tx.flush();
      await triggerMetricsRecompute(tx, input.tenantId, now);
      return row;
    });
    if (!plan) return false;
    effects.metrics.plans.inc({ status: 'failed' });
    announce(effects, input.tenantId, plan, 'failed');
    effects.logger.warn(
      { event: 'plan_failed', planId: input.planId, cause: input.cause, detail: input.detail },
      'plan failed',
    );
    return true;
  },
};
