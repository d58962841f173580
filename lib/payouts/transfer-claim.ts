import "server-only";

import type { AsyncResource } from "node:async_hooks";
import { randomUUID } from "node:crypto";

import { Prisma, type Payout, type TransferAttempt } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import { resolveContext, TX_OPTIONS, type TResolvedContext, type TServiceContext } from "@/lib/context";
import type { Db, Tx } from "@/lib/db";
import { sqlExecute, sqlRows, transaction } from "@/lib/direct-sql";
import { gatheredRows } from "@/lib/gathered-rows";
import { formatMoney } from "@/lib/money/format-money";
import { GO_ALONE } from "@/lib/together";

import { distinctPayoutIds, inProviderOrder, workEachMember } from "./batch-members";
import { changePayout, changePayoutGathered, gatheredPayoutChanges } from "./change-payout";
import { debtKeyOf, providersWhoseDebtsMayBeTaken } from "./debt-recovery-rows";
import { describeIneligibility, evaluateEligibility, type TIneligibleReason } from "./eligibility";
import { lockPayoutAndBooking, lockPayoutsAndBookings, type TLockedPayout } from "./lock-booking";
import { eligibilityFacts } from "./payout-facts";
import {
  ensureTransferPlan,
  knownTransferIds,
  legKey,
  readLegsWithPlanFactsOfMany,
  transferGroupFor,
  type TLegsWithPlanFacts,
  newLegs,
  type TPlanOutcome,
} from "./payout-transfers";
import { reserveDebtRecovery } from "./recover-debts";
import { FINAL_STATUSES } from "./state-machine";
import { syncPayoutWithBooking } from "./sync-payout-with-booking";
import { MAX_TRANSFER_ATTEMPTS, PROCESSING_LEASE_MS, type TClaimResult } from "./transfer-types";

/**
 * Step 1, a short transaction: claims a due, eligible payout (`scheduled` → `processing`,
 * guarded by its version) or continues this run's own claim, plans its transfers if this amount
 * version has no plan yet (lib/payouts/payout-transfers.ts), and records the attempt. A payout
 * another run is transferring is left alone; one whose plan cannot be made (a currency the
 * platform cannot transfer) is held with the reason.
 */
export async function claimTransfer(context: TServiceContext, input: { payoutId: string }): Promise<TClaimResult> {
  const ctx = resolveContext(context);
  return transaction(ctx.db, async (tx) => claimLocked(tx, ctx, await lockPayoutAndBooking(tx, input.payoutId)), TX_OPTIONS);
}

/**
 * claimTransfer of several payouts in one transaction: their bookings and payouts locked in two
 * statements that wait for no other transaction (lockPayoutsAndBookings: a payout whose rows are
 * held elsewhere, or that does not exist, is GO_ALONE), then each claimed as alone, in its caller's
 * async context (`scopes`), in the order of their providers (inProviderOrder). All or nothing: one
 * that throws rolls them all back. One payout at most once.
 */
export async function claimTransfers(
  db: Db,
  members: readonly { context: TServiceContext; input: { payoutId: string } }[],
  scopes: readonly AsyncResource[],
): Promise<(TClaimResult | typeof GO_ALONE)[]> {
  const payoutIds = distinctPayoutIds(
    members.map((m) => m.input.payoutId),
    "claimTransfers",
  );
  return transaction(
    db,
    async (tx) => {
      const locked = await lockPayoutsAndBookings(tx, payoutIds);
      const order = inProviderOrder(payoutIds.map((id) => locked.get(id)?.payout));
      // What each member's claim reads first, read for all in two statements (each member writes
      // nothing another member's reads see: one payout and booking each; debts taken, or made
      // takeable again only by a member that holds a reservation: providersWhoseDebtsMayBeTaken).
      const claimable = [...locked.values()].filter((l) => l.payout.status === "scheduled" || l.payout.status === "processing");
      const plans = await readLegsWithPlanFactsOfMany(tx, claimable);
      const withDebts = await providersWhoseDebtsMayBeTaken(
        tx,
        [...locked.values()].map((l) => l.payout),
      );
      return workEachMember(
        tx,
        members.length,
        order,
        scopes,
        (i) => {
          const member = locked.get(payoutIds[i]!)!;
          return claimLocked(tx, resolveContext(members[i]!.context), member, {
            plan: plans.get(member.payout.id),
            noTakeableDebt: !withDebts.has(debtKeyOf(member.payout)),
          });
        },
        [gatheredPayoutChanges, newLegs, startedAttempts],
      );
    },
    TX_OPTIONS,
  );
}

/**
 * The claim of a payout whose booking and payout this transaction has locked (claimTransfer).
 * `read`: what a batch read for it once it was locked (its plan's reads with its last attempt's
 * number; whether its provider has no debt its claim could take), used instead of reading them again.
 */
async function claimLocked(
  tx: Tx,
  ctx: TResolvedContext,
  { booking, payout, openDisputes }: TLockedPayout,
  read: { plan?: TLegsWithPlanFacts & { lastAttemptNumber: number }; noTakeableDebt?: boolean } = {},
): Promise<TClaimResult> {
  const now = ctx.clock.now();
  const audit = { actor: ctx.actor, runId: ctx.runId, requestId: ctx.requestId };
  let claimed: Payout;
  let stopBecause: TIneligibleReason[] | null = null;
  // The plan made (or found) for the claim's amount version; claiming changes no amount, so it stays the plan.
  let plannedAtClaim: Extract<TPlanOutcome, { kind: "planned" }> | null = null;

  if (payout.status === "processing") {
    const last = await tx.transferAttempt.findFirst({ where: { payoutId: payout.id }, orderBy: { attemptNumber: "desc" } });
    const mine = last?.runId != null && last.runId === ctx.runId;
    const leaseExpired = !payout.processingStartedAt || now.getTime() - payout.processingStartedAt.getTime() > PROCESSING_LEASE_MS;
    if (!mine && !leaseExpired) return { kind: "skipped", reason: "in_flight", status: payout.status };
    // The facts may have changed while the attempt waited (a cancellation, a dispute parked as "busy").
    const eligibility = evaluateEligibility({ ...eligibilityFacts(payout, booking, openDisputes), status: "scheduled" }, now, {
      ignoreDueTime: true,
    });
    if (!eligibility.eligible) stopBecause = eligibility.reasons;
    claimed = await changePayout(tx, payout, {
      data: { attempts: payout.attempts + 1, processingStartedAt: now },
      audit: { ...audit, action: "payout.transfer_attempt_started", reason: `attempt ${payout.attempts + 1}` },
    });
  } else if (payout.status === "scheduled") {
    const eligibility = evaluateEligibility(eligibilityFacts(payout, booking, openDisputes), now);
    if (!eligibility.eligible) {
      const reasons = eligibility.reasons;
      if (reasons.includes("dispute_open") || reasons.includes("provider_account_not_ready")) {
        const holdReason = reasons.includes("dispute_open") ? "dispute_open" : "provider_account_not_ready";
        await changePayout(tx, payout, {
          event: "hold",
          data: { holdReason, holdNote: describeIneligibility(reasons) },
          audit: { ...audit, action: "payout.held", reason: describeIneligibility(reasons) },
        });
        return { kind: "skipped", reason: "held", status: "on_hold", detail: describeIneligibility(reasons) };
      }
      if (reasons.includes("booking_cancelled")) {
        // Scheduled although its booking was cancelled (the sweep used to release a partly paid
        // one waiting for funds): the facts decide (cancelled, or held for review when part of it
        // was paid), so it never stays scheduled with nothing left to move it.
        const synced = await syncPayoutWithBooking(tx, booking, ctx, { reason: describeIneligibility(reasons) });
        return {
          kind: "skipped",
          reason: "not_eligible",
          status: synced.payout?.status ?? payout.status,
          detail: describeIneligibility(reasons),
        };
      }
      return { kind: "skipped", reason: "not_eligible", status: payout.status, detail: describeIneligibility(reasons) };
    }
    // The provider's open debts in its currency are netted now, when it leaves for Stripe (recover-debts.ts).
    const recovery = await reserveDebtRecovery(tx, payout, audit, { noTakeableDebt: read.noTakeableDebt });
    if (recovery.kind === "applied_to_debt") {
      return {
        kind: "skipped",
        reason: "already_settled",
        status: "applied_to_debt",
        detail: `the provider's debts took all of it (${formatMoney(recovery.recovered, payout.currency)}): nothing is transferred`,
      };
    }
    const netted = recovery.payout;
    const plan = await ensureTransferPlan(tx, netted, booking, read.plan);
    if (plan.kind === "stale_legs") {
      return {
        kind: "skipped",
        reason: "stale_legs",
        status: payout.status,
        detail: "transfers planned for an earlier amount are looked up at Stripe first",
      };
    }
    if (plan.kind !== "planned") return holdForPlan(tx, ctx, netted, plan);
    plannedAtClaim = plan;
    // Nothing below reads the payout back: in a batch, its claim is written with the others'.
    claimed = await changePayoutGathered(tx, netted, {
      event: "claim",
      data: { attempts: payout.attempts + 1, processingStartedAt: now },
      audit: { ...audit, action: "payout.transfer_started", reason: `attempt ${payout.attempts + 1}` },
    });
  } else {
    const reason = FINAL_STATUSES.includes(payout.status) ? "already_settled" : "not_eligible";
    return { kind: "skipped", reason, status: payout.status };
  }

  const plan: TPlanOutcome = plannedAtClaim ?? (await ensureTransferPlan(tx, claimed, booking, read.plan));
  if (plan.kind !== "planned" && !stopBecause) {
    // The amount cannot change while processing, so the plan made at the claim is still there.
    throw new Error(`Payout ${claimed.id} is processing without a transfer plan (${plan.kind}).`);
  }
  const pending = plan.kind === "planned" ? plan.pending : [];

  const legs = pending.map((leg) => ({
    legId: leg.id,
    leg: leg.leg,
    amountVersion: leg.amountVersion,
    sourceChargeId: leg.sourceChargeId,
    amount: leg.amount,
    currency: leg.currency,
    idempotencyKey: legKey(leg),
  }));
  const first = legs[0];
  const { id: attemptId, attemptNumber } = await recordAttempt(tx, read.plan?.lastAttemptNumber, {
    payoutId: claimed.id,
    amount: first?.amount ?? claimed.amount,
    currency: first?.currency ?? claimed.currency,
    amountVersion: claimed.amountVersion,
    idempotencyKey: first?.idempotencyKey ?? legKey({ payoutId: claimed.id, amountVersion: claimed.amountVersion, leg: 1, refusals: 0 }),
    runId: ctx.runId,
  });
  return {
    kind: "claimed",
    claim: {
      payoutId: claimed.id,
      attemptId,
      attemptNumber,
      amount: claimed.amount,
      currency: claimed.currency,
      amountVersion: claimed.amountVersion,
      // eligibility guaranteed an account id when the payout was claimed
      destination: booking.provider.stripeAccountId ?? "",
      transferGroup: transferGroupFor(booking),
      legs,
      // Read with the plan (nothing since wrote a Stripe transfer id or acknowledged an alert); without one, now.
      recordedTransferIds: plan.kind === "planned" ? plan.knownTransferIds : await knownTransferIds(tx, claimed.id),
      lookupFirst: attemptNumber > 1,
      lookupOnly: claimed.attempts > MAX_TRANSFER_ATTEMPTS,
      stopBecause,
    },
  };
}

type TAttemptStart = Pick<TransferAttempt, "payoutId" | "amount" | "currency" | "amountVersion" | "idempotencyKey" | "runId">;
type TAttemptRow = TAttemptStart & { id: string; attemptNumber: number; startedAt: Date };

/**
 * A claim batch's started attempts, written together before it commits (claimTransfers): a
 * member records its attempt last, and nothing in the batch reads another payout's attempts.
 */
const startedAttempts = gatheredRows<TAttemptRow>(async (tx, rows) => {
  await sqlExecute(
    tx,
    Prisma.sql`
    INSERT INTO "TransferAttempt" (id, "payoutId", "attemptNumber", amount, currency, "amountVersion", "idempotencyKey", status, counted, "runId", "startedAt")
    SELECT x.id, x."payoutId", x."attemptNumber", x.amount, x.currency, x."amountVersion", x."idempotencyKey", 'started', true, x."runId", x."startedAt"
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(id uuid, "payoutId" uuid, "attemptNumber" int, amount int, currency text,
      "amountVersion" int, "idempotencyKey" text, "runId" text, "startedAt" timestamptz)`,
  );
});

/**
 * Records a started attempt, numbered after the payout's last one (the payout is locked, so no
 * other attempt is numbered meanwhile): in a claim batch that read that number
 * (`lastAttemptNumber`), gathered for the batch's one statement; otherwise in one statement that
 * reads the number and writes the row together.
 */
async function recordAttempt(
  tx: Tx,
  lastAttemptNumber: number | undefined,
  attempt: TAttemptStart,
): Promise<{ id: string; attemptNumber: number }> {
  const gathered = startedAttempts.of(tx);
  if (gathered && lastAttemptNumber !== undefined) {
    const row = { ...attempt, id: randomUUID(), attemptNumber: lastAttemptNumber + 1, startedAt: new Date() };
    gathered.push(row);
    return { id: row.id, attemptNumber: row.attemptNumber };
  }
  const [row] = await sqlRows<{ id: string; attemptNumber: number }[]>(
    tx,
    Prisma.sql`
    INSERT INTO "TransferAttempt" ("payoutId", "attemptNumber", amount, currency, "amountVersion", "idempotencyKey", status, counted, "runId", "startedAt")
    SELECT ${attempt.payoutId}::uuid, coalesce(max("attemptNumber"), 0) + 1, ${attempt.amount}, ${attempt.currency}, ${attempt.amountVersion},
           ${attempt.idempotencyKey}, 'started', true, ${attempt.runId}, ${new Date()}::timestamptz
    FROM "TransferAttempt" WHERE "payoutId" = ${attempt.payoutId}::uuid
    RETURNING id::text AS id, "attemptNumber"`,
  );
  if (!row) throw new Error(`Recording an attempt of payout ${attempt.payoutId} returned no row.`);
  return row;
}

/** A payout whose transfers cannot be planned is held with the reason, and an admin is told. */
async function holdForPlan(
  tx: Tx,
  ctx: TResolvedContext,
  payout: Payout,
  plan: Extract<TPlanOutcome, { kind: "currency_unsupported" | "overpaid" }>,
): Promise<TClaimResult> {
  const audit = { actor: ctx.actor, runId: ctx.runId, requestId: ctx.requestId };
  const holdReason = plan.kind === "currency_unsupported" ? "currency_unsupported" : "review_required";
  await changePayout(tx, payout, {
    event: "hold",
    data: { holdReason, holdNote: plan.reason },
    audit: { ...audit, action: "payout.held", reason: plan.reason },
  });
  await raiseAlert(tx, {
    kind: holdReason === "currency_unsupported" ? "payout_currency_unsupported" : "payout_transfer_review",
    severity: "critical",
    title: holdReason === "currency_unsupported" ? "Payout in a currency the platform cannot transfer" : "Payout transfers need a review",
    message: `Payout ${payout.id} (${formatMoney(payout.amount, payout.currency)}) is held: ${plan.reason}`,
    payoutId: payout.id,
    providerId: payout.providerId,
    dedupeKey: `${holdReason}:${payout.id}:v${payout.amountVersion}`,
  });
  return { kind: "skipped", reason: "held", status: "on_hold", detail: plan.reason };
}
