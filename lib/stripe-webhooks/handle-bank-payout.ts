import "server-only";

import type Stripe from "stripe";
import { z } from "zod";

import { recordBankPayout } from "@/lib/providers/record-bank-payout";
import type { TApplyOutcome } from "@/lib/webhooks/types";

import { parseStripeObject, ZStripeId } from "./parse-stripe-object";
import type { TStripeHandlerInput } from "./types";

const STATUSES = ["pending", "in_transit", "paid", "failed", "canceled"] as const;

const ZPayout = z.looseObject({
  id: ZStripeId,
  amount: z.number().int().nonnegative(),
  currency: z.string().regex(/^[A-Za-z]{3}$/),
  status: z.enum(STATUSES),
  automatic: z.boolean().nullish(),
  arrival_date: z.number().int().nonnegative().nullish(),
  failure_code: z.string().nullish(),
  failure_message: z.string().nullish(),
});

/**
 * payout.paid / payout.failed / payout.canceled on a provider's connected account (Connect): the
 * provider's bank payout is recorded, the newest state winning, on the provider and on the payouts
 * it carried, and a failure alerts an admin (lib/providers/record-bank-payout.ts). A payout of the
 * platform's own balance (no `account`) is not ours to track.
 */
export async function handleBankPayout<T extends "payout.paid" | "payout.failed" | "payout.canceled">(
  input: TStripeHandlerInput<T>,
): Promise<TApplyOutcome> {
  const { deps, ctx } = input;
  const event = input.event as Stripe.Event;
  const account = event.account;
  const payout = parseStripeObject(ZPayout, event.data.object, "payout");
  if (!account) return { status: "ignored", reason: `payout ${payout.id} is the platform's own, not a provider's` };
  const result = await recordBankPayout(ctx, deps.stripe(), {
    accountId: account,
    payoutId: payout.id,
    amount: payout.amount,
    currency: payout.currency,
    status: payout.status,
    automatic: payout.automatic ?? true,
    arrivalDate: payout.arrival_date ? new Date(payout.arrival_date * 1000) : null,
    failureCode: payout.failure_code ?? null,
    failureMessage: payout.failure_message ?? null,
    stateAt: new Date(event.created * 1000),
  });
  switch (result.kind) {
    case "unknown_account":
      return { status: "ignored", reason: `no provider has Stripe account ${account}` };
    case "stale":
      return { status: "processed", note: `payout ${payout.id}: a newer state (${result.status}) is recorded; nothing changed` };
    case "recorded":
      return {
        status: "processed",
        note:
          `bank payout ${payout.id} is ${payout.status}${result.changed ? "" : " (unchanged)"}; ${result.linkedPayouts.length} payout(s) carried` +
          (result.linkError ? `; could not list what it carried: ${result.linkError}` : ""),
      };
  }
}
