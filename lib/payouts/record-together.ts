import "server-only";

import { AsyncResource } from "node:async_hooks";

import type { PrismaClient } from "@/generated/prisma/client";
import { coalesce } from "@/lib/coalesce";
import { resolveContext, type TServiceContext } from "@/lib/context";

import { isAccountNotReadyRefusal, type TRefusedAccount } from "./hold-for-account-refusal";
import { recordTransferOutcome, recordTransferOutcomes, type TOutcomeToRecord } from "./transfer-outcome";
import type { TClaim, TTransferOutcome, TTransferResult } from "./transfer-types";

// Group commit of the transfer step's last transaction: the outcomes the runs of this process
// record at the same moment are recorded in one transaction (recordTransferOutcomes: their locks
// and facts in three statements for all, then each recorded as alone). A run that finds no other
// recording in flight records alone at once, as recordTransferOutcome; those that come meanwhile
// wait for it and go together (lib/coalesce.ts).

type TSettled = { ok: true; result: TTransferResult } | { ok: false; error: unknown };

/** Batches of outcomes recorded at once at most, and such transactions open at once (of the Prisma pool's 10 connections). */
const MAX_BATCH = 50;
const MAX_IN_FLIGHT = 2;

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
  const settled = await recorderOf(resolveContext(context).db)({ context, claim, outcome, scope: new AsyncResource("payout-outcome") });
  if (settled.ok) return settled.result;
  throw settled.error;
}

const recorders = new WeakMap<PrismaClient, (member: TOutcomeToRecord) => Promise<TSettled>>();

function recorderOf(db: PrismaClient): (member: TOutcomeToRecord) => Promise<TSettled> {
  let recorder = recorders.get(db);
  if (!recorder) {
    recorder = coalesce((members: readonly TOutcomeToRecord[]) => recordAll(db, members), {
      maxBatch: MAX_BATCH,
      maxInFlight: MAX_IN_FLIGHT,
    });
    recorders.set(db, recorder);
  }
  return recorder;
}

async function settle(record: () => Promise<TTransferResult>): Promise<TSettled> {
  try {
    return { ok: true, result: await record() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Records one outcome in its own transaction, in its caller's async context. */
function alone(member: TOutcomeToRecord): Promise<TSettled> {
  return member.scope.runInAsyncScope(() => settle(() => recordTransferOutcome(member.context, member.claim, member.outcome)));
}

/**
 * One transaction for the outcomes of different payouts; a second outcome of a payout is recorded
 * alone once that transaction has committed. Should it roll back (one of them threw, a deadlock
 * with another transaction), each is recorded alone and hears its own result or error.
 */
async function recordAll(db: PrismaClient, members: readonly TOutcomeToRecord[]): Promise<TSettled[]> {
  if (members.length === 1) return [await alone(members[0]!)];
  const payouts = new Set<string>();
  const together: TOutcomeToRecord[] = [];
  const after: TOutcomeToRecord[] = [];
  for (const member of members) {
    (payouts.has(member.claim.payoutId) ? after : together).push(member);
    payouts.add(member.claim.payoutId);
  }
  const settled = new Map<TOutcomeToRecord, TSettled>();
  try {
    const results = await recordTransferOutcomes(db, together);
    together.forEach((member, i) => settled.set(member, { ok: true, result: results[i]! }));
  } catch {
    for (const member of together) settled.set(member, await alone(member));
  }
  for (const member of after) settled.set(member, await alone(member));
  return members.map((member) => settled.get(member)!);
}
