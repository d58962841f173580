import "server-only";

import type Stripe from "stripe";

import type { BankPayoutStatus } from "@/generated/prisma/enums";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import { recordAudit } from "@/lib/audit/record-audit";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import { formatMoney } from "@/lib/money/format-money";
import { normalizeCurrency } from "@/lib/money/money";
import { recordBankPayoutFailedEvent } from "@/lib/platform-webhooks/record-event";
import { classifyStripeError } from "@/lib/stripe/classify-error";

export type TBankPayoutFact = {
  /** The provider's connected account (the event's `account`). */
  accountId: string;
  /** po_… */
  payoutId: string;
  amount: number;
  currency: string;
  status: BankPayoutStatus;
  automatic: boolean;
  arrivalDate: Date | null;
  failureCode: string | null;
  failureMessage: string | null;
  /** When this state was true at Stripe (the event's creation time). */
  stateAt: Date;
};

export type TBankPayoutResult =
  | { kind: "unknown_account" }
  | { kind: "stale"; status: BankPayoutStatus }
  | { kind: "recorded"; providerId: string; changed: boolean; linkedPayouts: string[]; linkError: string | null };

/** Later states win a tie within one second: a payout can fail after it was reported paid. */
const RANK: Record<BankPayoutStatus, number> = { pending: 0, in_transit: 1, paid: 2, canceled: 3, failed: 3 };

/** The transfers' payments a bank payout carried (Stripe lists them for automatic payouts only). */
async function carriedPayments(stripe: Stripe, fact: TBankPayoutFact): Promise<string[]> {
  const sources: string[] = [];
  for await (const bt of stripe.balanceTransactions.list({ payout: fact.payoutId, limit: 100 }, { stripeAccount: fact.accountId })) {
    const source = typeof bt.source === "string" ? bt.source : bt.source?.id;
    if (source) sources.push(source);
  }
  return sources;
}

/**
 * A provider's bank payout changed (Connect's payout.paid / payout.failed / payout.canceled on
 * their account). It is recorded on the provider, the newest state winning; the payouts whose
 * transfers it carried (Stripe lists them for automatic payouts: the transfers' payments on the
 * account) get a timeline entry; a failed or cancelled bank payout raises an alert naming the
 * provider and the amount: the money went back to their Stripe balance, not to their bank.
 */
export async function recordBankPayout(context: TServiceContext, stripe: Stripe, fact: TBankPayoutFact): Promise<TBankPayoutResult> {
  const ctx = resolveContext(context);
  const provider = await ctx.db.provider.findUnique({ where: { stripeAccountId: fact.accountId } });
  if (!provider) return { kind: "unknown_account" };
  let payments: string[] = [];
  let linkError: string | null = null;
  if (fact.automatic) {
    try {
      payments = await carriedPayments(stripe, fact);
    } catch (error) {
      linkError = classifyStripeError(error).message;
    }
  }
  const currency = normalizeCurrency(fact.currency);
  const audit = { actor: ctx.actor, runId: ctx.runId, requestId: ctx.requestId };

  return ctx.db.$transaction(async (tx) => {
    const existing = await tx.providerBankPayout.findUnique({ where: { stripePayoutId: fact.payoutId } });
    if (existing) {
      const second = (d: Date) => Math.floor(d.getTime() / 1000);
      const older = second(fact.stateAt) < second(existing.stateAt);
      const sameSecondLower = second(fact.stateAt) === second(existing.stateAt) && RANK[fact.status] < RANK[existing.status];
      if (older || sameSecondLower) return { kind: "stale", status: existing.status } as const;
    }
    const data = {
      providerId: provider.id,
      amount: fact.amount,
      currency,
      status: fact.status,
      automatic: fact.automatic,
      arrivalDate: fact.arrivalDate,
      failureCode: fact.failureCode,
      failureMessage: fact.failureMessage,
      stateAt: fact.stateAt,
    };
    const bankPayout = await tx.providerBankPayout.upsert({
      where: { stripePayoutId: fact.payoutId },
      create: { stripePayoutId: fact.payoutId, ...data },
      update: data,
    });
    if (payments.length > 0) {
      await tx.payoutTransfer.updateMany({ where: { destinationPaymentId: { in: payments } }, data: { bankPayoutId: bankPayout.id } });
    }
    const linked = await tx.payoutTransfer.findMany({
      where: { bankPayoutId: bankPayout.id },
      select: { payoutId: true },
      distinct: ["payoutId"],
    });
    const linkedPayouts = linked.map((l) => l.payoutId);
    const changed = existing?.status !== fact.status;
    if (!changed) return { kind: "recorded", providerId: provider.id, changed, linkedPayouts, linkError } as const;

    const money = formatMoney(fact.amount, currency);
    const why = fact.failureCode ? `: ${fact.failureCode}${fact.failureMessage ? ` (${fact.failureMessage})` : ""}` : "";
    const summary =
      fact.status === "paid"
        ? `bank payout ${fact.payoutId} of ${money} paid to the provider's bank${fact.arrivalDate ? `, expected ${fact.arrivalDate.toISOString().slice(0, 10)}` : ""}`
        : fact.status === "failed" || fact.status === "canceled"
          ? `in the provider's Stripe balance; their bank payout ${fact.payoutId} of ${money} ${fact.status === "failed" ? "failed" : "was cancelled"}${why}`
          : `bank payout ${fact.payoutId} of ${money} is ${fact.status.replace("_", " ")}`;
    await recordAudit(tx, {
      ...audit,
      action: `provider.bank_payout_${fact.status}`,
      entityType: "provider",
      entityId: provider.id,
      reason: summary,
      before: existing ? { status: existing.status } : null,
      after: {
        stripePayoutId: fact.payoutId,
        status: fact.status,
        amount: fact.amount,
        currency,
        failureCode: fact.failureCode,
        payouts: linkedPayouts,
      },
    });
    for (const payoutId of linkedPayouts) {
      await recordAudit(tx, {
        ...audit,
        action: `payout.bank_payout_${fact.status}`,
        entityType: "payout",
        entityId: payoutId,
        reason: summary,
        after: { stripePayoutId: fact.payoutId, status: fact.status, amount: fact.amount, currency, failureCode: fact.failureCode },
      });
    }
    // The booking platform hears of a failed one (its providers were told "paid").
    if (fact.status === "failed") await recordBankPayoutFailedEvent(tx, bankPayout, linkedPayouts);
    if (fact.status === "failed" || fact.status === "canceled") {
      await raiseAlert(tx, {
        kind: "bank_payout_failed",
        severity: "critical",
        title: `A provider's bank payout ${fact.status === "failed" ? "failed" : "was cancelled"}`,
        message:
          `${provider.name}'s bank payout of ${money} (${fact.payoutId}, account ${fact.accountId}) ${fact.status === "failed" ? "failed" : "was cancelled"}${why}. ` +
          `The money is back in their Stripe balance, not in their bank${linkedPayouts.length > 0 ? `; it carried ${linkedPayouts.length} payout(s)` : ""}. ` +
          "Ask the provider to fix their bank details in Stripe.",
        payoutId: linkedPayouts[0] ?? null,
        providerId: provider.id,
        dedupeKey: `bank_payout_${fact.status}:${fact.payoutId}`,
      });
    }
    return { kind: "recorded", providerId: provider.id, changed, linkedPayouts, linkError } as const;
  }, TX_OPTIONS);
}
