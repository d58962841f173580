import "server-only";

import type { PrismaClient } from "@/generated/prisma/client";
import { resolveContext, type TServiceContext } from "@/lib/context";
import { onePer } from "@/lib/one-per";
import { together } from "@/lib/together";

import { isAccountNotReadyRefusal, type TRefusedAccount } from "./hold-for-account-refusal";
import { claimTransfer, claimTransfers } from "./transfer-claim";
import { recordTransferOutcome, recordTransferOutcomes, type TOutcomeToRecord } from "./transfer-outcome";
import type { TClaim, TClaimResult, TTransferOutcome, TTransferResult } from "./transfer-types";

// Group commit of the transfer step's two transactions (lib/together.ts): the claims the runs of
// this process make at the same moment are made in one transaction (claimTransfers: their locks in
// two statements for all, then each claimed as alone), and so are the outcomes they record
// (recordTransferOutcomes: their locks and facts in three statements for all).

const claimerOf = onePer((db: PrismaClient) =>
  together<{ context: TServiceContext; input: { payoutId: string } }, TClaimResult>({
    alone: (m) => claimTransfer(m.context, m.input),
    all: (members, scopes) => claimTransfers(db, members, scopes),
    key: (m) => m.input.payoutId,
  }),
);

/** Claims a payout for a transfer attempt as claimTransfer does, with the claims other runs of this process make at the same moment. */
export function claimTogether(context: TServiceContext, input: { payoutId: string }): Promise<TClaimResult> {
  return claimerOf(resolveContext(context).db)({ context, input });
}

const recorderOf = onePer((db: PrismaClient) =>
  together<TOutcomeToRecord, TTransferResult>({
    alone: (m) => recordTransferOutcome(m.context, m.claim, m.outcome),
    all: (members, scopes) => recordTransferOutcomes(db, members, scopes),
    // A second outcome of a payout reads its facts after the first's writes.
    key: (m) => m.claim.payoutId,
  }),
);

/**
 * Records an attempt's outcome as recordTransferOutcome does, with the outcomes other runs of this
 * process record at the same moment. One Stripe refused for the provider's account is recorded
 * alone (it locks the account first).
 */
export async function recordOutcomeTogether(
  context: TServiceContext,
  claim: TClaim,
  outcome: TTransferOutcome,
  refusedAccount?: TRefusedAccount,
): Promise<TTransferResult> {
  const accountRefused = outcome.result.kind === "failed" && isAccountNotReadyRefusal(outcome.result.failure);
  if (accountRefused || refusedAccount) return recordTransferOutcome(context, claim, outcome, refusedAccount);
  return recorderOf(resolveContext(context).db)({ context, claim, outcome });
}
