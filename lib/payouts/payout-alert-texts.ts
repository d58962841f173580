// The words of the payout engine's alerts that the demo seed (lib/seed/) writes too, in one place,
// amounts formatted for people. Pure.
import { formatMoney } from "@/lib/money/format-money";

type TPayoutAmount = { id: string; amount: number; currency: string };

/** payout_failed (markFailed in transfer-payout.ts). */
export function payoutFailedMessage(payout: TPayoutAmount & { attempts: number }, error: string): string {
  return `Payout ${payout.id} (${formatMoney(payout.amount, payout.currency)}) failed after ${payout.attempts} attempt${payout.attempts === 1 ? "" : "s"}: ${error}`;
}

/** The payout_failed alert (markFailed in transfer-complete.ts), one per payout and last attempt. */
export function payoutFailedAlert(payout: TPayoutAmount & { attempts: number; providerId: string }, error: string, attemptNumber: number) {
  return {
    kind: "payout_failed",
    severity: "critical",
    title: "Payout transfer failed",
    message: payoutFailedMessage(payout, error),
    payoutId: payout.id,
    providerId: payout.providerId,
    dedupeKey: `payout_failed:${payout.id}:${attemptNumber}`,
  } as const;
}

/** transfer_outcome_unknown (the last counted try may have reached Stripe). */
export function transferOutcomeUnknownMessage(payout: TPayoutAmount, error: string): string {
  return `The last transfer attempt for payout ${payout.id} (${formatMoney(payout.amount, payout.currency)}) got no clear answer from Stripe: ${error}. It stays processing until the reconciliation sweep finds the transfer at Stripe (transferred) or confirms there is none (failed).`;
}

/** The transfer_outcome_unknown alert (transfer-outcome.ts), one per attempt that got no clear answer. */
export function transferOutcomeUnknownAlert(payout: TPayoutAmount & { providerId: string }, error: string, attemptId: string) {
  return {
    kind: "transfer_outcome_unknown",
    severity: "warning",
    title: "Transfer outcome unknown",
    message: transferOutcomeUnknownMessage(payout, error),
    payoutId: payout.id,
    providerId: payout.providerId,
    dedupeKey: `transfer_outcome_unknown:${attemptId}`,
  } as const;
}

/** reversal_failed (reverse-transfer.ts: the provider's balance cannot cover it). */
export function reversalFailedMessage(
  payoutId: string,
  reversal: { amount: number; currency: string },
  stripeTransferId: string,
  error: string,
): string {
  return `Could not reverse ${formatMoney(reversal.amount, reversal.currency)} of transfer ${stripeTransferId} (payout ${payoutId}): ${error}. Recorded as a debt of the provider.`;
}
