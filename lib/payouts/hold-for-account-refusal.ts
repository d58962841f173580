import "server-only";

import type Stripe from "stripe";

import type { Payout } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import type { TResolvedContext } from "@/lib/context";
import type { Tx } from "@/lib/db";
import { formatMoney } from "@/lib/money/format-money";
import { recordAccountState, type TAccountReadinessInput } from "@/lib/payouts/update-provider-account";
import { classifyStripeError, type TStripeFailure } from "@/lib/stripe/classify-error";
import { retrieveAccountReadiness, type TAccountReadiness } from "@/lib/stripe/transfers";

import { changePayout } from "./change-payout";

// Stripe refused a payout's transfer because the provider's account cannot receive it
// (`insufficient_capabilities_for_transfer`: its transfers capability is not active). That is
// the same fact an account.updated saying "not ready" gives, so it ends the same way: the account
// recorded as Stripe describes it (lib/providers/update-provider-account.ts), the payout held for
// `provider_account_not_ready`, the attempt not counted, and the payout released when Stripe
// says the account is ready (account.updated, or the sweep asking). The refusal's idempotency key
// is not used again (REFUSAL_ERROR_TYPES in transfer-payout.ts moves the transfer to a new one).

/** What we know of a destination account right after Stripe refused a transfer to it as not ready. */
export type TRefusedAccount = {
  stripeAccountId: string;
  /** When Stripe's refusal came back. */
  refusedAt: Date;
  /** The account as Stripe showed it right after (accounts.retrieve), and when; null when Stripe could not be asked. */
  lookup: { readiness: TAccountReadiness; at: Date } | null;
  /** Why Stripe could not be asked for the account. */
  lookupError?: string;
};

/** Stripe refused the transfer because the destination account cannot receive transfers now. */
export function isAccountNotReadyRefusal(failure: TStripeFailure): boolean {
  return failure.reason === "destination_not_ready" && !failure.outcomeUnknown;
}

/**
 * Outside any transaction, right after the refusal: asks Stripe for the account, so what is
 * recorded is what Stripe says of it now, not only what the refusal implies. Never throws: when
 * Stripe cannot be asked, the refusal is what we know.
 */
export async function lookUpRefusedAccount(ctx: TResolvedContext, stripe: Stripe, stripeAccountId: string): Promise<TRefusedAccount> {
  const refusedAt = ctx.clock.now();
  try {
    const readiness = await retrieveAccountReadiness(stripe, stripeAccountId);
    return { stripeAccountId, refusedAt, lookup: { readiness, at: ctx.clock.now() } };
  } catch (error) {
    return { stripeAccountId, refusedAt, lookup: null, lookupError: classifyStripeError(error).message };
  }
}

/**
 * Records what Stripe said of the refused account through the readiness code, as an
 * account.updated would be (the newest state wins; a state older than the one recorded changes
 * nothing; the provider's scheduled payouts are held when it cannot receive payouts). Without a
 * look-up the refusal itself is recorded: the account cannot receive transfers, as of the refusal.
 * Call in the transaction that records the attempt, which took lockStripeAccount before the
 * booking's lock. Returns whether the provider's record now says the account can receive payouts.
 */
export async function recordRefusedAccount(
  tx: Tx,
  ctx: TResolvedContext,
  providerId: string,
  refused: TRefusedAccount,
  failure: TStripeFailure,
): Promise<boolean> {
  const { stripeAccountId } = refused;
  const input: TAccountReadinessInput = refused.lookup
    ? { stripeAccountId, ...refused.lookup.readiness, stateAt: refused.lookup.at }
    : {
        stripeAccountId,
        payoutsEnabled: false,
        transfersActive: false,
        stateAt: refused.refusedAt,
        inferredFrom:
          `Stripe refused a transfer to it (${failure.code ?? failure.reason}: ${failure.message})` +
          (refused.lookupError ? `; Stripe could not be asked for the account: ${refused.lookupError}` : ""),
      };
  await recordAccountState(tx, ctx, input);
  const provider = await tx.provider.findUniqueOrThrow({ where: { id: providerId }, select: { payoutsEnabled: true } });
  return provider.payoutsEnabled;
}

/**
 * The processing payout goes on hold for `provider_account_not_ready`, the note and the audit
 * naming Stripe's refusal, the attempt given back (a refusal for the account is not the payout's
 * failure). Transfers of the payout already made stay recorded and are not sent again; the rest
 * is sent when the payout is released. A payout part of which was transferred raises a critical
 * alert: the provider holds part of it while the rest waits, for as long as the account does.
 * Call with the booking and the payout locked, after the attempt and its transfers are recorded.
 */
export async function holdForAccountRefusal(
  tx: Tx,
  ctx: TResolvedContext,
  payout: Payout,
  input: { stripeAccountId: string; error: string },
): Promise<{ payout: Payout; note: string }> {
  const note = `Stripe refused the transfer: the provider's Stripe account ${input.stripeAccountId} cannot receive transfers (${input.error})`;
  const held = await changePayout(tx, payout, {
    event: "unclaim_to_hold",
    data: {
      holdReason: "provider_account_not_ready",
      holdNote: note,
      processingStartedAt: null,
      lastError: input.error,
      attempts: Math.max(0, payout.attempts - 1),
    },
    audit: { actor: ctx.actor, action: "payout.held", reason: note, runId: ctx.runId, requestId: ctx.requestId },
  });

  const paid = await tx.payoutTransfer.aggregate({
    where: { payoutId: payout.id, kind: "payout", status: "succeeded" },
    _sum: { payoutAmount: true },
  });
  const paidAmount = paid._sum.payoutAmount ?? 0;
  if (paidAmount > 0) {
    await raiseAlert(tx, {
      kind: "transfer_held_partly_paid",
      severity: "critical",
      title: "Part of a payout was transferred; the rest is held",
      message:
        `Payout ${payout.id}: ${formatMoney(paidAmount, payout.currency)} of ${formatMoney(payout.amount, payout.currency)} was transferred, then Stripe refused the next transfer ` +
        `because the provider's Stripe account ${input.stripeAccountId} cannot receive transfers. The rest is held until Stripe says the account can receive payouts; ` +
        "the transfers made stay with the provider.",
      payoutId: payout.id,
      providerId: payout.providerId,
      dedupeKey: `transfer_held_partly_paid:${payout.id}:v${payout.amountVersion}`,
    });
  }
  return { payout: held, note };
}
