import { z } from 'zod';
import type { StarTransaction } from '../telegram/stars-api.ts';
import { BillingSyncError } from './billing-sync-error.ts';
import type { StarPaymentReport } from './star-payments.ts';

/**
 * What a getStarTransactions entry means for our ledger. A payment from a user carries its
 * invoice payload (ours or not: verified when recorded) and, for a subscription, its period; a
 * refund is money going back to a user under the same id as the payment it returns. Anything else
 * (Fragment withdrawals, ads, paid media) is not ours to record.
 */
export type StarAction =
  | { kind: 'payment'; payer: string; payment: StarPaymentReport }
  | { kind: 'refund'; payer: string; chargeId: string; refundedAt: Date };

const partner = z
  .object({
    type: z.string(),
    user: z.object({ id: z.number().int().positive() }).loose().optional(),
    invoice_payload: z.string().optional(),
    subscription_period: z.number().int().positive().optional(),
  })
  .loose();

const transaction = z
  .object({
    id: z.string().min(1),
    amount: z.number().int(),
    date: z.number().int().positive(),
    source: partner.optional(),
    receiver: partner.optional(),
  })
  .loose();

/** A page Telegram answered with entries we cannot read fails the run: skipping them would lose payments. */
export function readStarTransactions(page: StarTransaction[]): StarAction[] {
  const parsed = z.array(transaction).safeParse(page);
  if (!parsed.success) {
    throw new BillingSyncError(
      'bad_reply',
      `getStarTransactions returned an entry we cannot read: ${parsed.error.issues[0]?.message}`,
      'telegram',
    );
  }
  const actions: StarAction[] = [];
  for (const entry of parsed.data) {
    const at = new Date(entry.date * 1000);
    const { source, receiver } = entry;
    if (source?.type === 'user' && source.user && source.invoice_payload !== undefined) {
      const period = source.subscription_period;
      actions.push({
        kind: 'payment',
        payer: String(source.user.id),
        payment: {
          chargeId: entry.id,
          amount: entry.amount,
          currency: 'XTR',
          invoicePayload: source.invoice_payload,
          isRecurring: period !== undefined,
          // Telegram's list does not say; the sync fills it in from the payments it already has.
          isFirstRecurring: false,
          // Telegram charges a renewal when the previous period ends, so a period later is its end.
          expiresAt: period ? new Date((entry.date + period) * 1000) : null,
          paidAt: at,
        },
      });
    } else if (receiver?.type === 'user' && receiver.user) {
      actions.push({ kind: 'refund', payer: String(receiver.user.id), chargeId: entry.id, refundedAt: at });
    }
  }
  return actions;
}
