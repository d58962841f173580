import "server-only";

import type { Payout } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import { knownPlatformCurrencies } from "@/lib/charges/platform-currencies";
import type { TResolvedContext } from "@/lib/context";
import type { Tx } from "@/lib/db";
import { formatMoney } from "@/lib/money/format-money";

import { changePayout } from "./change-payout";
import type { TLockedBooking } from "./lock-booking";

/**
 * The currency policy, applied when the payout is created: a payout in a currency the platform's
 * Stripe balance does not hold (known from STRIPE_SETTLEMENT_CURRENCIES or the cached balance) is
 * transferred in the currency its charge settled in, converted at the charge's own rate
 * (lib/payouts/plan-transfers.ts): the payout notes that currency (when the platform holds only
 * one) and the audit log says why. Without a charge nothing can convert it: it is held with that
 * reason at once and an admin is alerted, rather than failing 48 hours later.
 */
export async function applyCurrencyPolicy(tx: Tx, ctx: TResolvedContext, payout: Payout, booking: TLockedBooking): Promise<Payout> {
  const platform = await knownPlatformCurrencies(tx);
  if (!platform || platform.includes(payout.currency)) return payout;
  const audit = { actor: ctx.actor, runId: ctx.runId, requestId: ctx.requestId };
  const held = platform.join(", ") || "no currency";
  if (booking.stripeChargeId || booking.stripePaymentIntentId) {
    const transferCurrency = platform.length === 1 ? platform[0]! : null;
    return changePayout(tx, payout, {
      data: { transferCurrency },
      audit: {
        ...audit,
        action: "payout.currency_converted",
        reason:
          `The platform's Stripe balance holds ${held}, not ${payout.currency}: the payout is transferred in the currency its charge ` +
          `settled in${transferCurrency ? ` (${transferCurrency})` : ""}, at the charge's exchange rate.`,
      },
    });
  }
  const reason = `The platform's Stripe balance holds ${held}, not ${payout.currency}, and the booking names no charge to convert it.`;
  const heldPayout = await changePayout(tx, payout, {
    event: "hold",
    data: { holdReason: "currency_unsupported", holdNote: reason },
    audit: { ...audit, action: "payout.held", reason },
  });
  await raiseAlert(tx, {
    kind: "payout_currency_unsupported",
    severity: "critical",
    title: "Payout in a currency the platform cannot transfer",
    message: `Payout ${payout.id} of booking ${booking.externalId} (${formatMoney(payout.amount, payout.currency)}) is held: ${reason} Add ${payout.currency} to the platform's Stripe balance (then release it), or cancel it.`,
    payoutId: payout.id,
    providerId: payout.providerId,
    dedupeKey: `currency_unsupported:${payout.id}`,
  });
  return heldPayout;
}
