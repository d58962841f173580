import "server-only";

import type Stripe from "stripe";

import { Prisma, type PrismaClient } from "@/generated/prisma/client";
import { coalesce } from "@/lib/coalesce";
import { resolveContext, type TResolvedContext, type TServiceContext } from "@/lib/context";
import { sqlRows } from "@/lib/direct-sql";
import { getEnv } from "@/lib/env";
import { isUuid } from "@/lib/ids";
import { onePer } from "@/lib/one-per";
import { classifyStripeError } from "@/lib/stripe/classify-error";
import { createTransfer, findTransfersForPayout } from "@/lib/stripe/transfers";
import { sendStripeWrite } from "@/lib/stripe/write-gate";

import { PROCESSING_LEASE_MS, type TClaim, type TClaimedLeg, type TTransferOutcome } from "./transfer-types";

/**
 * Step 2, outside any transaction: asks Stripe. If earlier attempts may have reached Stripe, it
 * first looks for their transfers (so a transfer whose answer was lost is found, not repeated);
 * right before each send it checks that no dispute opened meanwhile. Each transfer names its
 * funding charge (`source_transaction`) and goes through the shared write gate (rate, and pauses
 * for 429s); its idempotency key is the payout, its amount version and the leg, the same on every
 * retry. Stops at the first failure: the next attempt continues with what is left. A request that
 * may have reached Stripe is never taken as not sent: only a look-up at Stripe says so (a look-up
 * that fails leaves the outcome unknown), and a transfer of the payout that the look-up cannot
 * match to any of its legs stops the attempt before anything more is sent.
 */
export async function executeTransfer(context: TServiceContext, stripe: Stripe, claim: TClaim): Promise<TTransferOutcome> {
  const ctx = resolveContext(context);
  const made: TTransferOutcome["made"] = [];
  const exclude = new Set(claim.recordedTransferIds);
  /** Looks `legs` up at Stripe: those found are made; returns the others, and the payout's transfers that none of its legs explains. */
  const lookUp = async (legs: readonly TClaimedLeg[]) => {
    const atStripe = await findTransfersForPayout(stripe, { transferGroup: claim.transferGroup, payoutId: claim.payoutId, legs, exclude });
    const missing: TClaimedLeg[] = [];
    for (const leg of legs) {
      const found = atStripe.found.get(leg);
      if (!found) {
        missing.push(leg);
        continue;
      }
      made.push({ legId: leg.legId, transfer: found, recovered: true });
      exclude.add(found.id);
    }
    return { missing, unmatched: atStripe.unmatched };
  };
  const unexpected = (transfers: Stripe.Transfer[]): TTransferOutcome => ({ made, result: { kind: "unexpected_transfers", transfers } });
  // Whether an earlier request went through is unknown: never send, never conclude "failed".
  const lookupFailed = (legId: string, error: unknown): TTransferOutcome => {
    const failure = classifyStripeError(error);
    return {
      made,
      result: {
        kind: "failed",
        legId,
        failure: { ...failure, outcomeUnknown: true, retry: failure.retry === "never" ? "now" : failure.retry },
      },
    };
  };
  let toSend = claim.legs;

  if ((claim.lookupFirst || claim.lookupOnly || claim.stopBecause) && claim.legs.length > 0) {
    let looked: Awaited<ReturnType<typeof lookUp>>;
    try {
      looked = await lookUp(claim.legs);
    } catch (error) {
      return lookupFailed(claim.legs[0]!.legId, error);
    }
    if (looked.unmatched.length > 0) return unexpected(looked.unmatched);
    toSend = looked.missing;
    if (toSend.length === 0) return { made, result: { kind: "succeeded" } };
    if (claim.stopBecause) return { made, result: { kind: "stopped", reasons: claim.stopBecause } };
    if (claim.lookupOnly) {
      return {
        made,
        result: {
          kind: "failed",
          legId: toSend[0]!.legId,
          failure: {
            retry: "never",
            counts: true,
            outcomeUnknown: false,
            type: "attempts_exhausted",
            reason: "unknown",
            message: "No transfer found at Stripe after the last attempt.",
          },
        },
      };
    }
  }

  if (toSend.length === 0) return { made, result: { kind: "succeeded" } };
  const claimLost = (leg: TClaimedLeg, detail: string): TTransferOutcome => ({
    made,
    result: { kind: "claim_lost", legId: leg.legId, detail },
  });

  for (const leg of toSend) {
    // Requests for this leg that went out: a 429 answers the last of them only, and the SDK's own
    // retry may have followed a first request that Stripe carried out (its answer lost).
    let sends = 0;
    /** Why the send slot found this claim may not send the leg (`lost`), or the leg already made (`made`). */
    const stop: { lost: string | null; made: boolean } = { lost: null, made: false };
    try {
      // Checked in the write's slot, right before it goes out: the claim may be lost (the write
      // waited for its slot past the processing lease, the payout was taken on by the sweep or
      // another run, its amount changed and the leg was replaced), a dispute may open while the
      // write waits for its slot (or after a 429), or while an earlier transfer waits for its answer.
      const transfer = await sendStripeWrite(ctx.stripeWrites, async () => {
        const held = await claimHeld(ctx, claim, leg);
        if (held.kind !== "held") {
          if (held.kind === "lost") stop.lost = held.detail;
          else stop.made = true;
          return null;
        }
        if (held.disputeOpen) return null;
        sends += 1;
        return createTransfer(stripe, {
          amount: leg.amount,
          currency: leg.currency,
          destination: claim.destination,
          transferGroup: claim.transferGroup,
          sourceTransaction: leg.sourceChargeId,
          metadata: { payoutId: claim.payoutId, amountVersion: String(claim.amountVersion), leg: String(leg.leg) },
          idempotencyKey: leg.idempotencyKey,
        });
      });
      if (!transfer) {
        // Made already (the sweep recorded it while this claim held the payout): nothing to send.
        if (stop.made && sends === 0) continue;
        if (sends === 0) return stop.lost ? claimLost(leg, stop.lost) : { made, result: { kind: "deferred_for_dispute" } };
        // The claim was lost or a dispute opened while a turned-away send of this leg waited to go
        // again: that leg may be made all the same. Stripe says whether it is; the legs after it wait.
        let looked: Awaited<ReturnType<typeof lookUp>>;
        try {
          looked = await lookUp([leg]);
        } catch (error) {
          return lookupFailed(leg.legId, error);
        }
        if (looked.unmatched.length > 0) return unexpected(looked.unmatched);
        if (looked.missing.length > 0) {
          if (stop.lost) return claimLost(leg, stop.lost);
          if (!stop.made) return { made, result: { kind: "deferred_for_dispute" } };
        }
        continue;
      }
      made.push({ legId: leg.legId, transfer, recovered: false });
      exclude.add(transfer.id);
    } catch (error) {
      const failure = classifyStripeError(error);
      if (failure.outcomeUnknown) {
        // The request may have reached Stripe (no answer, or a 5xx): if Stripe made it, that is the outcome.
        try {
          const looked = await lookUp([leg]);
          if (looked.unmatched.length > 0) return unexpected(looked.unmatched);
          if (looked.missing.length === 0) continue;
        } catch {
          // Stripe unreachable: keep the first failure, whose outcome is unknown. Even if Stripe said
          // not to send it again, it may have made the transfer: never conclude "failed" from it.
          return {
            made,
            result: { kind: "failed", legId: leg.legId, failure: { ...failure, retry: failure.retry === "never" ? "now" : failure.retry } },
          };
        }
      }
      return { made, result: { kind: "failed", legId: leg.legId, failure } };
    }
  }
  return { made, result: { kind: "succeeded" } };
}

/**
 * How much of its processing lease a claim must have left for a request to go out: the longest a
 * Stripe request can take (its timeout, for the first try and each network retry) and a minute of
 * slack. A request admitted in the slot has finished before the lease runs out.
 */
export function sendMarginMs(): number {
  const env = getEnv();
  return env.STRIPE_TIMEOUT_MS * (env.STRIPE_MAX_NETWORK_RETRIES + 1) + 60_000;
}

type TClaimFacts = {
  status: string;
  latestId: string | null;
  latestNumber: number | null;
  legStatus: string | null;
  legTransferId: string | null;
  openDisputes: number;
  processingStartedAt: Date | null;
};

/**
 * claimHeld's read of several legs about to be sent in one statement: the sends of a process's runs
 * follow their write-gate slots, which the gate hands out together (lib/stripe/write-gate.ts), so
 * they read at the same moment; each gets what it would have read alone (undefined: no such payout).
 */
const claimFactsReaderOf = onePer((db: PrismaClient) => coalesce((legs: readonly TLegRef[]) => readClaimFacts(db, legs)));

type TLegRef = { payoutId: string; legId: string };

/** readClaimFacts of one leg, read with those of the legs other runs of this process send at the same moment. */
export async function readClaimFactsTogether(db: PrismaClient, ref: TLegRef): Promise<TClaimFacts | undefined> {
  // Ids that are not uuids (a step's input as sent) are read alone, so that the error is this run's.
  if (!isUuid(ref.payoutId) || !isUuid(ref.legId)) return (await readClaimFacts(db, [ref]))[0];
  return claimFactsReaderOf(db)(ref);
}

/** claimHeld's facts of each leg given (undefined: no such payout), in one statement. */
export async function readClaimFacts(db: PrismaClient, legs: readonly TLegRef[]): Promise<(TClaimFacts | undefined)[]> {
  const rows = await sqlRows<(TClaimFacts & { i: number })[]>(
    db,
    Prisma.sql`
    SELECT x.i, p."status"::text AS "status",
           p."processingStartedAt" AS "processingStartedAt",
           a."id"::text AS "latestId",
           a."attemptNumber" AS "latestNumber",
           t."status"::text AS "legStatus",
           t."stripeTransferId" AS "legTransferId",
           (SELECT count(*)::int FROM "Dispute" d WHERE d."bookingId" = p."bookingId" AND d."status" = 'open') AS "openDisputes"
    FROM unnest(${legs.map((l) => l.payoutId)}::uuid[], ${legs.map((l) => l.legId)}::uuid[]) WITH ORDINALITY AS x("payoutId", "legId", i)
    JOIN "Payout" p ON p."id" = x."payoutId"
    LEFT JOIN LATERAL (
      SELECT "id", "attemptNumber" FROM "TransferAttempt" WHERE "payoutId" = p."id" ORDER BY "attemptNumber" DESC LIMIT 1
    ) a ON true
    LEFT JOIN "PayoutTransfer" t ON t."id" = x."legId" AND t."payoutId" = p."id"`,
    { genericPlan: true },
  );
  const byIndex = new Map(rows.map(({ i, ...row }) => [Number(i), row]));
  return legs.map((_, index) => byIndex.get(index + 1));
}

type TClaimHeld = { kind: "held"; disputeOpen: boolean } | { kind: "made" } | { kind: "lost"; detail: string };

/**
 * Whether `claim` may still send `leg`, read right before the request goes out: the payout is
 * processing with this attempt as its latest claim, and the leg is still pending. A request that
 * waited in the write gate longer than the processing lease must not go out under a leg that was
 * replaced meanwhile (its key is not the new leg's: Stripe would make a second transfer). With it,
 * whether a dispute is open on the booking. One query (with those of other runs' sends at the same
 * moment: claimFactsReaderOf): the send follows its slot closely (lib/stripe/write-gate.ts, LATE_START_MS).
 */
async function claimHeld(ctx: TResolvedContext, claim: TClaim, leg: TClaimedLeg): Promise<TClaimHeld> {
  const row = await readClaimFactsTogether(ctx.db, { payoutId: claim.payoutId, legId: leg.legId });
  if (row?.status !== "processing" || row.latestId !== claim.attemptId) {
    const since =
      row?.latestId && row.latestId !== claim.attemptId ? `attempt ${row.latestNumber} claimed it since` : `it is ${row?.status ?? "gone"}`;
    return { kind: "lost", detail: `attempt ${claim.attemptNumber} no longer holds the payout (${since}): leg ${leg.leg} was not sent` };
  }
  const leaseLeft = row.processingStartedAt ? row.processingStartedAt.getTime() + PROCESSING_LEASE_MS - ctx.clock.now().getTime() : 0;
  if (leaseLeft < sendMarginMs()) {
    // Too late to send: the request might still be at Stripe when the lease runs out and another
    // run (or the sweep) takes the payout on; what it finds then must be final.
    return {
      kind: "lost",
      detail: `attempt ${claim.attemptNumber}'s claim has ${Math.max(0, Math.round(leaseLeft / 1000))} s left, too little to send leg ${leg.leg} safely: it was not sent`,
    };
  }
  if (row.legStatus === "pending" && row.legTransferId === null) return { kind: "held", disputeOpen: row.openDisputes > 0 };
  if (row.legStatus === "succeeded") return { kind: "made" };
  return { kind: "lost", detail: `leg ${leg.leg} is ${row.legStatus ?? "gone"}: it was not sent` };
}
