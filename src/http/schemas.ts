import { z } from 'zod';
import { planContentSchema } from '../ai/plan-content.ts';
import { PLAN_STATUSES } from '../db/entities/personal-plan.entity.ts';
import { SUBSCRIPTION_STATUSES } from '../db/entities/subscription.entity.ts';

/** telegram_user.telegram_id is a signed bigint; a larger id would be a database error, not a 400. */
const MAX_BIGINT = 2n ** 63n - 1n;

/** A Telegram id in a path or a JSON string: decimal digits, normalised ("007" is user 7). */
export const telegramIdString = z
  .string()
  .regex(/^\d{1,20}$/, 'must be a positive integer of at most 20 digits')
  // zod runs refinements even after a failed regex, so BigInt must not see non-digits.
  .refine((value) => /^\d+$/.test(value) && BigInt(value) > 0n && BigInt(value) <= MAX_BIGINT, {
    message: 'must be a positive 64-bit Telegram id',
  })
  .transform((value) => BigInt(value).toString())
  .meta({
    description: 'Telegram user id, a decimal string (64-bit ids do not fit a JSON number).',
    examples: ['279058397'],
  });

export const uuid = z.uuid().meta({ examples: ['0b5c4ad6-3f44-4c1f-9e53-1b8a4e6f2d10'] });

/** The JSON error contract (docs/api.md). */
export const errorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.unknown()).optional(),
  }),
});

const iso = z.string().meta({ description: 'ISO 8601 timestamp' });

export const subscriptionSchema = z
  .object({
    planTitle: z.string(),
    status: z.enum(SUBSCRIPTION_STATUSES).meta({
      description:
        'active: paid and renewing; cancelled: paid until currentPeriodEnd, not renewing; expired; refunded',
    }),
    currentPeriodEnd: iso.nullable(),
    renews: z.boolean(),
  })
  .nullable()
  .meta({ description: 'null when the user never subscribed' });

export const planSchema = z.object({
  id: z.uuid(),
  status: z.enum(PLAN_STATUSES),
  content: planContentSchema.optional(),
  error: z.string().optional(),
  createdAt: iso,
  readyAt: iso.optional(),
});

/** A user as the Mini App (`/api/me`) and the bot API see them. */
export const userProfileShape = {
  telegramId: z.string(),
  firstName: z.string(),
  lastName: z.string().nullable(),
  username: z.string().nullable(),
  languageCode: z.string().nullable(),
  role: z.enum(['owner', 'trainer', 'support']).nullable(),
  isClient: z.boolean(),
  subscription: subscriptionSchema,
  latestPlan: planSchema.nullable(),
};
