import "server-only";

import type { Payout } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import type { TResolvedContext } from "@/lib/context";
import type { Tx } from "@/lib/db";
import { formatMoney } from "@/lib/money/format-money";

import { changePayout } from "./change-payout";
import type { TStripeTransferFound } from "./transfer-types";

// Money that left for a payout where its plan did not expect it: alerted, and the payout held
// for a person (review_required) while it can be, so nothing more is sent until they checked.

/** The alert kind (and dedupe key prefix) of a transfer the payout's plan does not explain. */
export const UNEXPECTED_TRANSFER = "unexpected_transfer";

/** How a transfer is named in an alert or a hold note: its id, amount, leg and amount version. */
export function describeTransfer(transfer: TStripeTransferFound): string {
  const metadata = transfer.metadata ?? {};
  return `${transfer.id} (${formatMoney(transfer.amount, transfer.currency)}, leg ${metadata.leg ?? "1"}, amount version ${metadata.amountVersion ?? "unknown"})`;
}

/**
 * A critical alert about one transfer the plan did not expect, under the key that lets a look-up
 * leave it out once a person acknowledged it (knownTransferIds). `why` completes "which …".
 */
export async function alertUnexpectedTransfer(tx: Tx, payout: Payout, transfer: TStripeTransferFound, why: string): Promise<void> {
  await raiseAlert(tx, {
    kind: UNEXPECTED_TRANSFER,
    severity: "critical",
    title: "Unexpected Stripe transfer for a payout",
    message:
      `Stripe holds transfer ${describeTransfer(transfer)} for payout ${payout.id} (${formatMoney(payout.amount, payout.currency)}, ${payout.status.replace("_", " ")}), ` +
      `which ${why}. Check what the provider was paid in Stripe before releasing the payout.`,
    payoutId: payout.id,
    providerId: payout.providerId,
    dedupeKey: `${UNEXPECTED_TRANSFER}:${transfer.id}`,
  });
}

/**
 * Holds the payout for review (`review_required`, with `note`) while it can be: processing (the
 * attempt is given back), scheduled, or on hold for a cause that may go away by itself. A
 * transferred or settled payout stays as it is (the alert tells a person). Returns the payout as
 * it is now. Call with the booking and the payout locked.
 */
export async function holdForReview(tx: Tx, ctx: TResolvedContext, payout: Payout, note: string): Promise<Payout> {
  const audit = { actor: ctx.actor, action: "payout.held" as const, reason: note, runId: ctx.runId, requestId: ctx.requestId };
  if (payout.status === "processing") {
    // The attempt stopped to ask a person: it is given back (it does not count toward the limit).
    const data = {
      holdReason: "review_required" as const,
      holdNote: note,
      processingStartedAt: null,
      attempts: Math.max(0, payout.attempts - 1),
    };
    return changePayout(tx, payout, { event: "unclaim_to_hold", data, audit });
  }
  if (payout.status === "scheduled")
    return changePayout(tx, payout, { event: "hold", data: { holdReason: "review_required", holdNote: note }, audit });
  if (payout.status === "on_hold" && payout.holdReason !== "review_required") {
    // Held for a cause that may go away by itself (funds, a dispute): only a person releases it now.
    return changePayout(tx, payout, { data: { holdReason: "review_required", holdNote: note }, audit });
  }
  return payout;
}
