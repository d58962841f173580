import "server-only";

import { Prisma, type Payout, type PayoutTransfer } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import { recordAudit } from "@/lib/audit/record-audit";
import type { TResolvedContext } from "@/lib/context";
import type { Tx } from "@/lib/db";
import { sqlRows } from "@/lib/direct-sql";
import { formatMoney } from "@/lib/money/format-money";
import { columnsOf } from "@/lib/statement-names";

import { gatheredLegWrites } from "./gathered-leg-writes";
import { alertUnexpectedTransfer, describeTransfer, holdForReview } from "./transfer-review";
import type { TMadeTransfer, TStripeTransferFound } from "./transfer-types";

export type TLegRecord = {
  /**
   * `recorded`: the transfer is now the leg's. `already`: it was already. `elsewhere`: another of
   * the payout's transfers has it (alerted, nothing written). `unexpected`: the leg was no longer
   * waiting for it (replaced, or paid by another transfer): money the plan did not expect left;
   * recorded where it can be, alerted, the payout held for review.
   */
  kind: "recorded" | "already" | "elsewhere" | "unexpected";
  /** The payout as it is now (held when the transfer was unexpected). */
  payout: Payout;
  /** The leg as written, when the transfer was written on it (it now counts as paid). */
  written: PayoutTransfer | null;
};

/**
 * The one way a Stripe transfer made for one of the payout's legs (PayoutTransfer) is recorded:
 * its answer, or a look-up that matched the leg (lib/stripe/transfers.ts isTransferForLeg), by the
 * run that sent it, the sweep, a top-up or a re-plan. A second record of the same transfer is a
 * no-op; one that another leg has already is alerted. A leg still pending is paid by it (one for
 * another amount than planned is recorded all the same, the money being at Stripe, and alerted).
 * A leg no longer pending (replaced after an amount change, or paid by another transfer) never
 * takes it silently: it is unexpected money out, so it is recorded on the leg when the leg has no
 * transfer (it counts as paid), and a critical alert is raised and the payout held for review.
 * Audited when the payout has several transfers, or the leg is not one of the current plan (a
 * payout paid with one transfer has it in its "transferred" entry). Call with the payout locked.
 */
export async function recordLegTransfer(
  tx: Tx,
  ctx: TResolvedContext,
  payout: Payout,
  legId: string,
  transfer: TMadeTransfer | TStripeTransferFound,
  note: string | null,
): Promise<TLegRecord> {
  // The leg, the transfer that may hold this Stripe transfer already, and the payout's other
  // transfers (what writeLeg counts), in one read.
  const rows = await tx.payoutTransfer.findMany({
    where: { OR: [{ id: legId }, { stripeTransferId: transfer.id }, { payoutId: payout.id }] },
  });
  return recordLegTransferAmong(tx, ctx, payout, legId, transfer, note, rows);
}

/**
 * recordLegTransfer with its rows read already (an attempt's outcome reads them with the rest of its
 * facts, completion-facts.ts): at least the leg, any transfer holding this Stripe transfer, and the
 * payout's transfers, as they are now. More rows change nothing. `gather`: in a record batch, a
 * pending leg's transfer is written with the batch's others before it commits (gatheredLegWrites),
 * for a caller that reads none of the payout's legs back before then.
 */
export async function recordLegTransferAmong(
  tx: Tx,
  ctx: TResolvedContext,
  payout: Payout,
  legId: string,
  transfer: TMadeTransfer | TStripeTransferFound,
  note: string | null,
  rows: readonly PayoutTransfer[],
  options: { gather?: boolean } = {},
): Promise<TLegRecord> {
  const leg = rows.find((r) => r.id === legId);
  if (!leg) throw new Error(`Payout transfer ${legId} does not exist.`);
  if (leg.stripeTransferId === transfer.id) return { kind: "already", payout, written: null };
  const elsewhere = rows.find((r) => r.id !== legId && r.stripeTransferId === transfer.id);
  if (elsewhere) {
    // Never expected: the transfer is another leg's already. Stop and shout.
    await raiseAlert(tx, {
      kind: "unexpected_transfer",
      severity: "critical",
      title: "Unexpected Stripe transfer for a payout",
      message: `Stripe transfer ${transfer.id} was made for payout ${payout.id}, which is ${payout.status}, but it is recorded for another of its transfers (leg ${elsewhere.leg}). Check it in Stripe.`,
      payoutId: payout.id,
      providerId: payout.providerId,
      dedupeKey: `unexpected_transfer:${transfer.id}`,
    });
    return { kind: "elsewhere", payout, written: null };
  }
  if (leg.status !== "pending") return { kind: "unexpected", ...(await recordUnexpected(tx, ctx, payout, leg, rows, transfer, note)) };

  if (transfer.amount !== leg.amount || transfer.currency.toLowerCase() !== leg.currency.toLowerCase()) {
    // A transfer made for an earlier amount (its answer lost, the payout changed since) was
    // found: the money is at Stripe, so it counts as this transfer; a human settles the difference.
    await raiseAlert(tx, {
      kind: "transfer_amount_mismatch",
      severity: "critical",
      title: "Transferred amount differs from the payout",
      message: `Stripe transfer ${transfer.id} for payout ${payout.id} moved ${formatMoney(transfer.amount, transfer.currency)}, but ${formatMoney(leg.amount, leg.currency)} was planned (the payout is now ${formatMoney(payout.amount, payout.currency)}). Recover or pay the difference by hand.`,
      payoutId: payout.id,
      providerId: payout.providerId,
      dedupeKey: `transfer_amount_mismatch:${transfer.id}`,
    });
  }
  const written = await writeLeg(tx, ctx, payout, leg, rows, transfer, note, options.gather ?? false);
  return { kind: "recorded", payout, written };
}

/**
 * A transfer for a leg that was no longer waiting for one: a request that went out after its leg
 * was replaced or paid (it waited in the write gate past its claim), or a look-up that found it.
 */
async function recordUnexpected(
  tx: Tx,
  ctx: TResolvedContext,
  payout: Payout,
  leg: PayoutTransfer,
  transfers: readonly PayoutTransfer[],
  transfer: TMadeTransfer | TStripeTransferFound,
  note: string | null,
): Promise<{ payout: Payout; written: PayoutTransfer | null }> {
  const found: TStripeTransferFound = {
    metadata: { leg: String(leg.leg), amountVersion: String(leg.amountVersion) },
    ...transfer,
  };
  const was = leg.stripeTransferId ? `paid by transfer ${leg.stripeTransferId}` : "replaced";
  const recorded = leg.stripeTransferId === null;
  // Money paid all the same: a leg without a transfer records it (it counts as paid, so no plan pays
  // it twice); a second transfer for a paid leg is known by its alert (knownTransferIds).
  const written = recorded
    ? await writeLeg(tx, ctx, payout, leg, transfers, transfer, `${note ? `${note}; ` : ""}made for a transfer already ${was}`)
    : null;
  await alertUnexpectedTransfer(
    tx,
    payout,
    found,
    `was made for leg ${leg.leg} of amount version ${leg.amountVersion} after that transfer had been ${was}${recorded ? "; it is now recorded as paid" : ""}`,
  );
  const held = await holdForReview(
    tx,
    ctx,
    payout,
    `Stripe made transfer ${describeTransfer(found)} for a transfer already ${was}`.slice(0, 1000),
  );
  return { payout: held, written };
}

const TRANSFER_COLUMNS = columnsOf(Prisma.PayoutTransferScalarFieldEnum);

/**
 * Writes the transfer on the leg (paid), and its audit entry unless it is the payout's only transfer;
 * returns the leg as written. `transfers`: the payout's transfers as read with the payout locked,
 * before this write.
 */
async function writeLeg(
  tx: Tx,
  ctx: TResolvedContext,
  payout: Payout,
  leg: PayoutTransfer,
  transfers: readonly PayoutTransfer[],
  transfer: TMadeTransfer,
  note: string | null,
  gather = false,
): Promise<PayoutTransfer> {
  const destinationPayment =
    typeof transfer.destination_payment === "string" ? transfer.destination_payment : (transfer.destination_payment?.id ?? null);
  const values = {
    stripeTransferId: transfer.id,
    destinationPaymentId: destinationPayment,
    transferredAt: ctx.clock.now(),
    updatedAt: new Date(),
  };
  // The flush checks the leg is still pending without a transfer (the caller read it so: isPlainSuccess).
  const gathered = gather ? gatheredLegWrites.of(tx) : undefined;
  let written: PayoutTransfer | undefined;
  if (gathered) {
    gathered.push({ id: leg.id, payoutId: leg.payoutId, ...values });
    written = { ...leg, status: "succeeded", ...values };
  } else {
    [written] = await sqlRows<PayoutTransfer[]>(
      tx,
      Prisma.sql`
      UPDATE "PayoutTransfer" SET status = 'succeeded', "stripeTransferId" = ${values.stripeTransferId},
        "destinationPaymentId" = ${values.destinationPaymentId}, "transferredAt" = ${values.transferredAt}::timestamptz,
        "updatedAt" = ${values.updatedAt}::timestamptz
      WHERE id = ${leg.id}::uuid
      RETURNING ${TRANSFER_COLUMNS}`,
    );
  }
  if (!written) throw new Error(`Transfer ${leg.id} of payout ${payout.id} was not found to record ${transfer.id} on.`);
  // A payout paid with one transfer has it in its "transferred" entry; with several, each is on the
  // timeline. Its planned transfers (pending or made) once this one is written: the leg is one now.
  const counts = (t: PayoutTransfer) =>
    t.payoutId === payout.id && t.kind === "payout" && (t.status === "pending" || t.status === "succeeded");
  const planned = transfers.filter((t) => t.id !== leg.id && counts(t)).length + (counts({ ...leg, status: "succeeded" }) ? 1 : 0);
  const ofCurrentPlan = leg.status === "pending" && leg.amountVersion === payout.amountVersion;
  if (planned < 2 && ofCurrentPlan) return written;
  await recordAudit(tx, {
    actor: ctx.actor,
    action: "payout.transfer_made",
    entityType: "payout",
    entityId: payout.id,
    reason: note,
    before: { leg: leg.leg, amountVersion: leg.amountVersion, status: leg.status },
    after: {
      stripeTransferId: transfer.id,
      leg: leg.leg,
      amountVersion: leg.amountVersion,
      amount: transfer.amount,
      currency: transfer.currency.toUpperCase(),
      payoutAmount: leg.payoutAmount,
      sourceChargeId: leg.sourceChargeId,
      exchangeRate: leg.exchangeRate,
    },
    runId: ctx.runId,
    requestId: ctx.requestId,
  });
  return written;
}
