import "server-only";

import type Stripe from "stripe";
import { z } from "zod";

import { recordExternalReversal, type TStripeReversalFact } from "@/lib/payouts/record-external-reversal";

import { parseStripeObject, ZStripeId } from "./parse-stripe-object";
import type { TStripeHandler } from "./types";

const ZReversal = z.looseObject({
  id: ZStripeId,
  amount: z.number().int().positive(),
  currency: z.string().regex(/^[A-Za-z]{3}$/),
  created: z.number().int().nonnegative(),
  metadata: z.record(z.string(), z.string()).nullish(),
});

const ZReversedTransfer = z.looseObject({
  id: ZStripeId,
  metadata: z.record(z.string(), z.string()).nullish(),
  reversals: z.looseObject({ data: z.array(ZReversal), has_more: z.boolean() }),
});

/**
 * The error code of a transfer.reversed applied before its payout recorded the transfer (the
 * transfer's outcome is still unknown to us; the transfer run or the sweep records it). The
 * sweep re-applies such a delivery until it goes through (lib/webhooks/reapply-stale-deliveries.ts).
 */
export const TRANSFER_NOT_RECORDED_ERROR_CODE = "transfer_not_recorded";

/**
 * transfer.reversed: a payout's transfer was (partly) reversed. Reversals we made are
 * already recorded; any other is recorded as Stripe's, moves the payout to
 * partially_reversed / reversed and alerts an admin (lib/payouts/record-external-reversal.ts).
 * The event lists the transfer's first reversals only; when Stripe says there are more,
 * they are listed from Stripe.
 */
export const handleTransferReversed: TStripeHandler<"transfer.reversed"> = async ({ deps, ctx, event }) => {
  const transfer = parseStripeObject(ZReversedTransfer, event.data.object, "transfer");
  const listed = transfer.reversals.has_more ? await listAllReversals(deps.stripe(), transfer.id) : transfer.reversals.data;
  const reversals: TStripeReversalFact[] = listed.map((r) => ({
    id: r.id,
    amount: r.amount,
    currency: r.currency,
    createdAt: new Date(r.created * 1000),
    metadata: r.metadata ?? {},
  }));
  const result = await recordExternalReversal(ctx, { transferId: transfer.id, payoutId: transfer.metadata?.payoutId ?? null, reversals });
  switch (result.kind) {
    case "unknown_transfer":
      return { status: "ignored", reason: `transfer ${transfer.id} is not a payout transfer of ours` };
    case "transfer_not_recorded":
      if (result.status !== "processing" && result.status !== "scheduled") {
        // Only a transfer run (processing) or the next claim (scheduled) records a transfer. A
        // cancelled, failed or held payout will not: this needs a person, not endless attempts.
        return {
          status: "failed",
          error: `payout ${result.payoutId} is ${result.status}, yet Stripe reports reversals of transfer ${transfer.id} made for it: check the transfer at Stripe`,
        };
      }
      // Its transfer run (or the sweep, or the next claim) records the transfer; this delivery waits for that.
      return {
        status: "failed",
        error: `${TRANSFER_NOT_RECORDED_ERROR_CODE}: payout ${result.payoutId} (${result.status}) has not recorded transfer ${transfer.id} yet; re-applied until it has`,
      };
    case "recorded":
      return {
        status: "processed",
        note:
          result.external.length + result.confirmed.length === 0
            ? `all ${result.known} reversal(s) of transfer ${transfer.id} already recorded; nothing changed`
            : `transfer ${transfer.id}: ${result.external.length} reversal(s) made outside the payout system recorded and alerted, ${result.confirmed.length} of ours confirmed`,
      };
  }
};

async function listAllReversals(stripe: Stripe, transferId: string) {
  const all: z.infer<typeof ZReversal>[] = [];
  for await (const reversal of stripe.transfers.listReversals(transferId, { limit: 100 })) {
    all.push(parseStripeObject(ZReversal, reversal, "transfer reversal"));
  }
  return all;
}
