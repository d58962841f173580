import "server-only";

import type Stripe from "stripe";

import { resolveContext, type TServiceContext } from "@/lib/context";
import { refreshProviderAccount } from "@/lib/payouts/update-provider-account";
import { classifyStripeError } from "@/lib/stripe/classify-error";

import { readAttemptFactsTogether, type TAttemptFacts } from "./attempt-facts";
import { isAccountNotReadyRefusal, lookUpRefusedAccount } from "./hold-for-account-refusal";
import { replaceStaleLegs } from "./replace-stale-legs";
import { executeTransfer } from "./transfer-execute";
import { prepareFunding } from "./transfer-funding";
import { claimTogether, recordOutcomeTogether } from "./transfer-together";
import { TURNED_AWAY_RETRY_MS, type TTransferResult } from "./transfer-types";

// One whole attempt to transfer a payout, in steps that each stand alone (and that tests drive one
// by one): learn the funding (transfer-funding.ts) → claim and plan (transfer-claim.ts) → Stripe,
// through the write gate (transfer-execute.ts) → record the outcome (transfer-outcome.ts; legs:
// transfer-leg.ts; transferred or failed: transfer-complete.ts). What they share: transfer-types.ts.

/**
 * Our record may say a provider's account is not ready only because Stripe never told us
 * it became ready (account.updated is sent on changes only): ask Stripe before holding.
 * `refreshed` when Stripe answered (what it said is recorded, and time passed: the attempt's facts are read again).
 */
async function refreshAccountIfNotReady(
  context: TServiceContext,
  stripe: Stripe,
  facts: TAttemptFacts | null,
): Promise<{ unconfirmed: string } | { refreshed: true } | null> {
  const ctx = resolveContext(context);
  const account = facts?.stripeAccountId;
  // Only a claim from `scheduled` checks the account (and would hold the payout).
  if (!account || facts.payoutsEnabled || facts.status !== "scheduled") return null;
  try {
    await refreshProviderAccount(ctx, stripe, account);
    return { refreshed: true };
  } catch (error) {
    const failure = classifyStripeError(error);
    // Unknown to Stripe (a refusal): the claim holds or fails the payout as it should.
    if (failure.retry === "never") return { refreshed: true };
    // Stripe unreachable: holding on our possibly stale record could park a payable payout
    // for good (no account.updated comes when nothing changed). Leave it for the next try.
    return { unconfirmed: `could not ask Stripe whether account ${account} can receive payouts: ${failure.message}` };
  }
}

/** Learn what the plan needs, claim, ask Stripe, record: one whole attempt. Safe to run again at any point. */
export async function transferPayout(context: TServiceContext, stripe: Stripe, input: { payoutId: string }): Promise<TTransferResult> {
  const db = resolveContext(context).db;
  // What the steps before the claim look at, in one read (attempt-facts.ts).
  let facts = await readAttemptFactsTogether(db, input.payoutId);
  const account = await refreshAccountIfNotReady(context, stripe, facts);
  if (account && "unconfirmed" in account)
    return {
      kind: "skipped",
      reason: "account_unconfirmed",
      status: "scheduled",
      detail: `${account.unconfirmed}; the reconciliation sweep tries again`,
    };
  // What Stripe said of the account is recorded (it may have held the payout): read again.
  if (account) facts = await readAttemptFactsTogether(db, input.payoutId);
  const funding = await prepareFunding(context, stripe, input, facts);
  if (funding) {
    return {
      kind: "retry",
      attemptNumber: 0,
      delayMs: TURNED_AWAY_RETRY_MS,
      error: `could not learn from Stripe how the payout is funded: ${funding.unavailable}`,
      counted: false,
    };
  }
  // Transfers planned for an earlier amount are looked up before the claim plans anew.
  const stale = await replaceStaleLegs(context, stripe, input, facts);
  if (stale) return { kind: "retry", attemptNumber: 0, delayMs: TURNED_AWAY_RETRY_MS, error: stale.unavailable, counted: false };
  const claimed = await claimTogether(context, input);
  if (claimed.kind === "skipped" && claimed.reason === "stale_legs") {
    // Its amount changed after the look-up: look again on the next try.
    return {
      kind: "retry",
      attemptNumber: 0,
      delayMs: null,
      error: claimed.detail ?? "transfers planned for an earlier amount",
      counted: false,
    };
  }
  if (claimed.kind === "skipped") return claimed;
  const outcome = await executeTransfer(context, stripe, claimed.claim);
  // Refused because the account cannot receive transfers: ask Stripe how the account is, to record it with the outcome.
  const refusedAccount =
    outcome.result.kind === "failed" && isAccountNotReadyRefusal(outcome.result.failure)
      ? await lookUpRefusedAccount(resolveContext(context), stripe, claimed.claim.destination)
      : undefined;
  return recordOutcomeTogether(context, claimed.claim, outcome, refusedAccount);
}
