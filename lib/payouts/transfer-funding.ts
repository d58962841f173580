import "server-only";

import type Stripe from "stripe";

import { raiseAlert } from "@/lib/alerts/raise-alert";
import { recordAudit } from "@/lib/audit/record-audit";
import { learnCharges } from "@/lib/charges/charge-funding";
import { refreshPlatformCurrencies } from "@/lib/charges/platform-currencies";
import { resolveContext, TX_OPTIONS, type TResolvedContext, type TServiceContext } from "@/lib/context";
import { transaction } from "@/lib/direct-sql";
import { latestChargeOf } from "@/lib/stripe/charges";
import { classifyStripeError } from "@/lib/stripe/classify-error";

import { readAttemptFacts, type TAttemptFacts } from "./attempt-facts";
import { chargeIdsOf, chargeIdsOfPayout } from "./payout-transfers";

/**
 * Before a claim, outside any transaction: learns from Stripe what the plan needs. A booking or
 * tip known only by its PaymentIntent gets its charge (the intent's latest_charge) recorded; the
 * charges that pay for the payout are described (settlement currency, amount, availability); the
 * platform's currencies are refreshed when an hour old. `unavailable` when Stripe could not be
 * asked: the claim waits (nothing was spent). A charge Stripe says does not exist is left out of
 * the plan (its part is paid from the balance) and alerted; one Stripe refuses to show (a key
 * without read access to charges) keeps the claim waiting, and is alerted.
 */
export async function prepareFunding(
  context: TServiceContext,
  stripe: Stripe,
  input: { payoutId: string },
  /** The attempt's facts as just read (transferPayout); read here when not given. */
  given?: TAttemptFacts | null,
): Promise<{ unavailable: string } | null> {
  const ctx = resolveContext(context);
  const now = ctx.clock.now();
  const facts = given === undefined ? await readAttemptFacts(ctx.db, input.payoutId) : given;
  if (!facts || (facts.status !== "scheduled" && facts.status !== "processing")) return null;
  const payout = { id: input.payoutId, providerId: facts.providerId, booking: facts.booking, tips: facts.tips };
  const problems: string[] = [];

  const intents = [
    ...(payout.booking.stripeChargeId === null && payout.booking.stripePaymentIntentId ? [payout.booking.stripePaymentIntentId] : []),
    ...payout.tips.filter((t) => t.stripeChargeId === null && t.stripePaymentIntentId).map((t) => t.stripePaymentIntentId!),
  ];
  for (const intent of new Set(intents)) {
    try {
      const chargeId = await latestChargeOf(stripe, intent);
      if (chargeId) await recordChargeOfIntent(ctx, { bookingId: payout.booking.id, paymentIntentId: intent, chargeId });
    } catch (error) {
      const failure = classifyStripeError(error);
      if (failure.retry !== "never") problems.push(`PaymentIntent ${intent}: ${failure.message}`);
      // A PaymentIntent Stripe does not know: its part is paid from the balance, as for no charge at all.
    }
  }

  // Stripe was asked about PaymentIntents: what pays for the payout is read again, as it may have
  // changed meanwhile (a charge learnt here, or a tip with its own charge joined while Stripe answered).
  const askedStripe = intents.length > 0;
  const chargeIds = askedStripe ? await chargeIdsOfPayout(ctx.db, payout.id) : chargeIdsOf(facts);
  const lookups = await learnCharges(ctx.db, stripe, chargeIds, now, askedStripe ? undefined : facts.knownChargeIds);
  for (const [chargeId, lookup] of lookups) {
    if (lookup.kind === "unavailable" || lookup.kind === "refused") problems.push(`charge ${chargeId}: ${lookup.message}`);
    if (lookup.kind === "refused") {
      // Asking again gets the same refusal: the payout waits (nothing is planned on a charge we
      // could not read), and a person must fix what Stripe refuses, or it waits for good.
      await transaction(ctx.db, (tx) =>
        raiseAlert(tx, {
          kind: "charge_lookup_refused",
          severity: "critical",
          title: "Stripe refuses to show a charge that pays a payout",
          message: `Stripe refused to show charge ${chargeId} of booking ${payout.booking.externalId} (${lookup.message}). Payout ${payout.id} waits until it can be read: check the Stripe API key's permissions.`,
          payoutId: payout.id,
          providerId: payout.providerId,
          dedupeKey: `charge_lookup_refused:${chargeId}`,
        }),
      );
    }
    if (lookup.kind === "unknown_to_stripe") {
      await transaction(ctx.db, (tx) =>
        raiseAlert(tx, {
          kind: "charge_unknown_to_stripe",
          severity: "warning",
          title: "A booking names a charge Stripe does not know",
          message: `Booking ${payout.booking.externalId} names charge ${chargeId}, which Stripe does not know (${lookup.message}). Its part of payout ${payout.id} is transferred from the platform's balance instead; check the id the booking platform sent.`,
          payoutId: payout.id,
          providerId: payout.providerId,
          dedupeKey: `charge_unknown_to_stripe:${chargeId}`,
        }),
      );
    }
  }
  await refreshPlatformCurrencies(ctx.db, stripe, now, facts.platformCurrencies);
  return problems.length > 0 ? { unavailable: problems.join("; ") } : null;
}

/** A booking or tip paid with `paymentIntentId` and no charge recorded learns the charge (audited). */
async function recordChargeOfIntent(ctx: TResolvedContext, input: { bookingId: string; paymentIntentId: string; chargeId: string }) {
  await transaction(
    ctx.db,
    async (tx) => {
      const { count: bookings } = await tx.booking.updateMany({
        where: { id: input.bookingId, stripePaymentIntentId: input.paymentIntentId, stripeChargeId: null },
        data: { stripeChargeId: input.chargeId },
      });
      const { count: tips } = await tx.tip.updateMany({
        where: { bookingId: input.bookingId, stripePaymentIntentId: input.paymentIntentId, stripeChargeId: null },
        data: { stripeChargeId: input.chargeId },
      });
      if (bookings + tips === 0) return;
      await recordAudit(tx, {
        actor: ctx.actor,
        action: "booking.charge_learned",
        entityType: "booking",
        entityId: input.bookingId,
        reason: `PaymentIntent ${input.paymentIntentId} was paid with charge ${input.chargeId}`,
        after: {
          stripePaymentIntentId: input.paymentIntentId,
          stripeChargeId: input.chargeId,
          bookingUpdated: bookings > 0,
          tipsUpdated: tips,
        },
        runId: ctx.runId,
        requestId: ctx.requestId,
      });
    },
    TX_OPTIONS,
  );
}
