import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import type { TenantProfile } from '../tenants/tenant-directory.ts';
import type { PlanProvider } from './plan-provider.ts';
import { type AiCallLimiter, createAiCallLimiter, withAiRateLimit } from './rate-limited-plan-provider.ts';

/**
 * Counts a plan toward its tenant's UTC day once (a set of plan ids, so a retried or re-run plan
 * is not counted twice); 0 when the day's budget is already used by other plans.
 */
const ADMIT_PLAN = `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
`;

const DAY_MS = 24 * 3600_000;
const PLANS_PER_DAY_DELAYS = 'ai_tenant_plans_per_day_delays_total';

export type PlanAdmission = { ok: true } | { ok: false; retryAfterMs: number };

export interface TenantAiBudget {
  /** AI_TENANT_PLANS_PER_DAY (or the tenant's own): may this plan call the AI today? */
  admitPlan(tenant: TenantProfile, planId: string, now?: Date): Promise<PlanAdmission>;
  /** `provider` with every call first taking a slot of the tenant's own per-minute budget. */
  limited(provider: PlanProvider, tenant: TenantProfile): PlanProvider;
  /** Counts a plan job delayed to the next day (metric ai_tenant_plans_per_day_delays_total). */
  recordPlansPerDayDelay(): void;
}

/**
 * Each coach's share of the AI, on top of the install-wide AI_REQUESTS_PER_MINUTE: requests per
 * minute (a sliding window in Redis per tenant, shared by every worker) and plans per UTC day.
 * Keys carry the tenant id, so one tenant at its limit never takes another tenant's budget.
 */
export function createTenantAiBudget(options: {
  redis: Redis;
  keyPrefix: string;
  registry: Registry;
}): TenantAiBudget {
  const limiters = new Map<string, AiCallLimiter>();
  // Registered here until src/observability/metrics.ts has it; a second worker in one process
  // (tests) reuses the first one's counter.
  const delays =
    (options.registry.getSingleMetric(PLANS_PER_DAY_DELAYS) as Counter | undefined) ??
    new Counter({
      name: PLANS_PER_DAY_DELAYS,
      help: "Plan jobs delayed to the next UTC day because their tenant's AI plans per day were used up",
      registers: [options.registry],
    });

  return {
    async admitPlan(tenant, planId, now = new Date()) {
      const day = now.toISOString().slice(0, 10);
      const admitted = Number(
        await options.redis.eval(
          ADMIT_PLAN,
          1,
          `${options.keyPrefix}:tenant:${tenant.id}:ai-plans:${day}`,
          planId,
          String(tenant.ai.plansPerDay),
          String(2 * DAY_MS),
        ),
      );
      if (admitted === 1) return { ok: true };
      const nextDay = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
      // Spread over the first minute, so a tenant's whole backlog does not wake in one instant.
      return { ok: false, retryAfterMs: nextDay - now.getTime() + Math.round(Math.random() * 60_000) };
    },

    limited(provider, tenant) {
      if (provider.name === 'offline') return provider;
      const id = `${tenant.id}:${tenant.ai.requestsPerMinute}`;
      let limiter = limiters.get(id);
      if (!limiter) {
        limiter = createAiCallLimiter({
          redis: options.redis,
          keyPrefix: `${options.keyPrefix}:tenant:${tenant.id}`,
          maxCalls: tenant.ai.requestsPerMinute,
          budgetName: `tenant ${tenant.slug}'s AI_TENANT_REQUESTS_PER_MINUTE`,
        });
        limiters.set(id, limiter);
      }
      return withAiRateLimit(provider, limiter);
    },

    recordPlansPerDayDelay() {
      delays.inc();
    },
  };
}
