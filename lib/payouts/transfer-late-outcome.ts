import "server-only";

import type { Payout } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import type { TResolvedContext } from "@/lib/context";
import type { Tx } from "@/lib/db";
import { formatMoney } from "@/lib/money/format-money";

import { describeIneligibility } from "./eligibility";
import { holdForReview } from "./transfer-review";
import type { TTransferOutcome } from "./transfer-types";

// An attempt's outcome recorded after its claim was lost (its lease ran out and another attempt
// took the payout on, or the payout was settled, put back or held meanwhile): what it says, and
// the alert and hold when money it made is recorded for a payout nobody is transferring.

/** One line on what an attempt's outcome was, for the record of a late one. */
export function describeResult(result: TTransferOutcome["result"]): string {
  switch (result.kind) {
    case "succeeded":
      return "its transfers were made";
    case "failed":
      return `${result.failure.type}${result.failure.code ? ` (${result.failure.code})` : ""}: ${result.failure.message}`;
    case "stopped":
      return `stopped: ${describeIneligibility(result.reasons)}`;
    case "deferred_for_dispute":
      return "deferred for a dispute";
    case "unexpected_transfers":
      return `Stripe holds ${result.transfers.length} unexpected transfer(s)`;
    case "claim_lost":
      return result.detail;
  }
}

/**
 * Transfers recorded for a payout that is not processing (a late answer after the payout was put
 * back, held or settled): the payout's status does not show that money left, so a critical alert
 * names it and the payout is held for review while it can be (holdForReview).
 */
export async function holdForMoneyOutsideClaim(
  tx: Tx,
  ctx: TResolvedContext,
  payout: Payout,
  transferIds: readonly string[],
  attemptNumber: number,
): Promise<Payout> {
  await raiseAlert(tx, {
    kind: "transfer_outside_claim",
    severity: "critical",
    title: "Stripe transfer made for a payout that was not being transferred",
    message:
      `Stripe made transfer ${transferIds.join(", ")} for payout ${payout.id} (${formatMoney(payout.amount, payout.currency)}) ` +
      `after attempt ${attemptNumber} no longer held it; the payout is ${payout.status.replace("_", " ")}. ` +
      `The transfer is recorded on its leg: check what the provider was paid before releasing or retrying the payout.`,
    payoutId: payout.id,
    providerId: payout.providerId,
    dedupeKey: `transfer_outside_claim:${transferIds[0]}`,
  });
  return holdForReview(tx, ctx, payout, `Stripe transfer ${transferIds.join(", ")} was made after the attempt lost its claim`);
}
