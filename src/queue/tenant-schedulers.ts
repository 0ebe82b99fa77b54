import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../config/env.ts';
import type { Logger } from '../config/logger.ts';
import { Tenant } from '../db/entities/index.ts';
import type { JobCatalogue } from './job-catalogue.ts';
import type { Queues } from './queues.ts';

const RETRY_MS = 30_000;

/**
 * One BullMQ job scheduler per tenant for every catalogue job with a `perTenantSchedule` whose
 * queue this worker drains. Upserting is idempotent, so every such worker does it at start (which
 * also applies a changed interval). If PostgreSQL or Redis is down at start, it retries in the
 * background instead of failing the worker.
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

  async function upsertAll(): Promise<number> {
    const tenants = await options.orm.em.fork({ clear: true }).find(Tenant, {}, { fields: ['id'] });
    for (const [name, spec] of scheduled) {
      const schedule = spec.perTenantSchedule!;
      for (const tenant of tenants) {
        await options.queues[spec.queue].upsertJobScheduler(
          schedule.schedulerId(tenant.id),
          { every: schedule.everyMs(options.config) },
          { name, data: { tenantId: tenant.id } },
        );
      }
    }
    return tenants.length;
  }

  async function attempt(): Promise<void> {
    if (scheduled.length === 0) return;
    try {
      const tenants = await upsertAll();
      log.info(
        { event: 'tenant_schedulers_registered', tenants, jobs: scheduled.map(([name]) => name) },
        'per-tenant jobs scheduled',
      );
    } catch (error) {
      log.warn({ event: 'tenant_schedulers_failed', err: error }, 'cannot register schedulers; will retry');
      if (!stopped) timer = setTimeout(() => void attempt(), RETRY_MS);
    }
  }

  return {
    start: attempt,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
