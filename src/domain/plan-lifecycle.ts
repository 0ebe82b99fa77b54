import type { PlanContent } from '../ai/plan-content.ts';
import type { Logger } from '../config/logger.ts';
import { PersonalPlan, TelegramUser } from '../db/entities/index.ts';
import type { EntityManager } from '../db/orm.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { LiveEventPublisher } from './live-events.ts';
import { metricsRecomputePayload, triggerMetricsRecompute } from './metrics-trigger.ts';
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

/** A plan that has just started generating, with what generating and its message need. */
export interface StartedPlan {
  plan: Pick<PersonalPlan, 'id' | 'tenantId' | 'userId' | 'createdAt'>;
  startedAt: Date;
  /** The survey's stored answers, unchecked: the caller parses them. */
  answers: unknown;
  user: Pick<TelegramUser, 'id' | 'telegramId' | 'languageCode' | 'firstName'>;
}

interface StartedRow {
  previous_status: string;
  user_id: string;
  created_at: Date | string;
  started_at: Date | string;
  answers: unknown;
  telegram_id: string;
  language_code: string | null;
  first_name: string;
}

/**
 * Windows whose metrics trigger row is known to exist, per database (the ORM's configuration)
 * and tenant. At 100 plans/s every plan of a 10 s window sent the same insert, which did nothing
 * after the first; the row exists once any process committed it, so once a transaction of ours
 * committed having written or met it, later plans of that window skip the statement.
 */
const triggeredWindows = new WeakMap<object, Map<string, number>>();

/** Writes the window's trigger unless known; returns what to call once the transaction committed. */
async function triggerMetricsOnce(tx: EntityManager, tenantId: string, now: Date): Promise<() => void> {
  const window = metricsRecomputePayload(tenantId, now).notBefore;
  if (triggeredWindows.get(tx.config)?.get(tenantId) === window) return () => {};
  await triggerMetricsRecompute(tx, tenantId, now);
  return () => {
    const known = triggeredWindows.get(tx.config) ?? new Map<string, number>();
    known.set(tenantId, window);
    triggeredWindows.set(tx.config, known);
  };
}

const UNFINISHED = { $in: ['queued', 'generating'] as ('queued' | 'generating')[] };

/**
 * queued → generating → ready | failed, each transition in one place with its side effects, for
 * the job, the reconciler and anything else that moves a plan. Every transition is a conditional
 * update, so running one twice has the effect of running it once.
 */
export const planLifecycle = {
  /**
   * queued | generating → generating (one more attempt), returning what generating needs: the
   * plan, its survey's answers and its client. One statement (the update joins the survey and the
   * user and returns them), because a plan job is mostly round trips to PostgreSQL: this one
   * replaced a read of the plan, the update and two more reads. null when the plan does not exist
   * or is already finished.
   */
  async start(
    em: EntityManager,
    effects: PlanEffects,
    tenantId: string,
    planId: string,
  ): Promise<StartedPlan | null> {
    const now = new Date();
    // `old` is the row before this update: only a plan that was queued announces `generating`.
    const [row] = await em.getConnection().execute<StartedRow[]>(
      `update personal_plan p
       set status = 'generating', attempts = p.attempts + 1, started_at = coalesce(p.started_at, ?),
         updated_at = ?
       from personal_plan old, survey s, telegram_user u
       where p.tenant_id = ? and p.id = ? and p.status in ('queued', 'generating')
         and old.id = p.id and s.id = p.survey_id and u.id = p.user_id
       returning old.status as previous_status, p.user_id, p.created_at, p.started_at, s.answers,
         u.telegram_id::text as telegram_id, u.language_code, u.first_name`,
      [now, now, tenantId, planId],
    );
    if (!row) return null;
    const plan = { id: planId, tenantId, userId: row.user_id, createdAt: new Date(row.created_at) };
    if (row.previous_status === 'queued') announce(effects, tenantId, plan, 'generating');
    return {
      plan,
      startedAt: new Date(row.started_at),
      answers: row.answers,
      user: {
        id: row.user_id,
        telegramId: row.telegram_id,
        languageCode: row.language_code,
        firstName: row.first_name,
      },
    };
  },

  /** → ready, with the client's "plan ready" message, in one transaction; false if already finished. */
  async ready(
    em: EntityManager,
    effects: PlanEffects,
    input: {
      plan: StartedPlan['plan'];
      user: StartedPlan['user'];
      content: PlanContent;
      provider: string;
      startedAt: Date;
    },
  ): Promise<boolean> {
    const { plan, user } = input;
    const readyAt = new Date();
    let committedTrigger = () => {};
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
      committedTrigger = await triggerMetricsOnce(tx, plan.tenantId, readyAt);
      return true;
    });
    if (!changed) return false;
    committedTrigger();
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
