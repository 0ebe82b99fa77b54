import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../config/env.ts';
import type { Logger } from '../config/logger.ts';
import { Tenant } from '../db/entities/index.ts';
import type { JobCatalogue } from './job-catalogue.ts';
import type { Queues } from './queues.ts';

const RETRY_MS = 30_000;

/**
 * One BullMQ job scheduler per tenant for every catalogue job with a `perTenantSchedule` whose
 * queue this worker drains. At start every tenant's schedulers are upserted (idempotent, which also
 * applies a changed interval); then a pass every TENANT_CACHE_MS adds those missing (tenants
 * created since, or schedulers Redis lost) and removes those of tenants that are gone. If
 * PostgreSQL or Redis is down, a pass fails with a log line and the next one tries again (within
 * 30 s); the worker keeps running.
 */
export function createTenantSchedulers(options: {
  orm: MikroORM;
  queues: Queues;
  queueNames: string[];
  catalogue: JobCatalogue;
  config: Config;
  logger: Logger;
}) {
  const log = options.logger.child({ component: 'tenant_schedulers' });
  const scheduled = Object.entries(options.catalogue).filter(
    ([, spec]) => spec.perTenantSchedule && options.queueNames.includes(spec.queue),
  );
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  /**
   * One pass: upserts the schedulers of every tenant on the first pass (applying a changed
   * interval) and afterwards those missing (a tenant created since, or Redis lost them), and
   * removes ours whose tenant is gone. Returns what changed.
   */
  async function pass(first = false): Promise<{ added: number; removed: number; tenants: number }> {
    const rows = await options.orm.em.fork({ clear: true }).find(Tenant, {}, { fields: ['id'] });
    const tenantIds = new Set(rows.map((row) => row.id));
    let added = 0;
    let removed = 0;
    for (const [name, spec] of scheduled) {
      const schedule = spec.perTenantSchedule!;
      const queue = options.queues[spec.queue];
      const existing = new Map(
        (await queue.getJobSchedulers()).filter((s) => s.name === name).map((s) => [s.key, s]),
      );
      for (const tenantId of tenantIds) {
        if (!first && existing.has(schedule.schedulerId(tenantId))) continue;
        await queue.upsertJobScheduler(
          schedule.schedulerId(tenantId),
          { every: schedule.everyMs(options.config) },
          { name, data: { tenantId } },
        );
        if (!existing.has(schedule.schedulerId(tenantId))) added++;
      }
      // Ours (the id the schedule gives for the tenant its job names) and the tenant is gone.
      for (const [key, scheduler] of existing) {
        const tenantId = (scheduler.template?.data as { tenantId?: unknown } | undefined)?.tenantId;
        if (typeof tenantId !== 'string' || tenantIds.has(tenantId)) continue;
        if (schedule.schedulerId(tenantId) !== key) continue;
        if (await queue.removeJobScheduler(key)) removed++;
      }
    }
    return { added, removed, tenants: tenantIds.size };
  }

  async function run(first: boolean): Promise<void> {
    if (stopped || scheduled.length === 0) return;
    let ok = true;
    try {
      const result = await pass(first);
      if (first || result.added || result.removed) {
        log.info(
          { event: 'tenant_schedulers_registered', ...result, jobs: scheduled.map(([name]) => name) },
          'per-tenant jobs scheduled',
        );
      }
    } catch (error) {
      ok = false;
      log.warn({ event: 'tenant_schedulers_failed', err: error }, 'cannot register schedulers; will retry');
    }
    if (stopped) return;
    const next = ok ? options.config.tenants.cacheMs : Math.min(RETRY_MS, options.config.tenants.cacheMs);
    timer = setTimeout(() => void run(!ok && first), next);
    timer.unref?.();
  }

  return {
    start: () => run(true),
    /** One pass now (tests, or after creating a tenant in this process). */
    refresh: () => pass(),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
