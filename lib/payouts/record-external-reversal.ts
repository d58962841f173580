import "server-only";

import type { Payout } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import { transaction } from "@/lib/direct-sql";
import { ConflictError } from "@/lib/errors";
import { isUuid } from "@/lib/ids";
import { formatMoney } from "@/lib/money/format-money";
import { assertMinorUnits, normalizeCurrency } from "@/lib/money/money";

import { changePayout } from "./change-payout";
import { lockPayoutAndBooking } from "./lock-booking";
import { mulDivFloor } from "./plan-transfers";
import { reversalEvent } from "./reversal-event";
import { confirmReversal } from "./reverse-transfer";

export type TStripeReversalFact = {
  /** trr_… */
  id: string;
  amount: number;
  currency: string;
  createdAt: Date;
  /** Our reversals carry `reversalId` (and `payoutId`); one made elsewhere usually has none. */
  metadata: Record<string, string>;
};

export type TExternalReversalInput = {
  /** tr_… */
  transferId: string;
  /** The transfer's metadata.payoutId: finds a payout whose transfer id is not recorded yet. */
  payoutId?: string | null;
  /** Every reversal Stripe lists on the transfer (known ones are skipped). */
  reversals: TStripeReversalFact[];
};

export type TExternalReversalResult =
  /** No payout of ours made this transfer. */
  | { kind: "unknown_transfer" }
  /** The transfer is ours but the payout has not recorded it yet (its run is still settling): try again later. */
  | { kind: "transfer_not_recorded"; payoutId: string; status: Payout["status"] }
  | {
      kind: "recorded";
      payout: Payout;
      /** Reversals we did not make, now recorded (initiatedBy "stripe") and alerted. */
      external: string[];
      /** Reversals we requested whose success we had not recorded yet, now recorded. */
      confirmed: string[];
      /** Reversals already recorded: nothing changed. */
      known: number;
    };

/**
 * Stripe reports reversals on a payout's transfer (`transfer.reversed`). Reversals we made
 * are already recorded by their Stripe id: nothing changes. One we requested whose answer
 * we never recorded (a crash after Stripe's answer) is recorded now as ours. Any other was
 * made outside the payout system (the Stripe dashboard, the API, Stripe itself): it is
 * recorded as initiated by Stripe, the payout's reversed amount and status follow through
 * the state machine (partially_reversed / reversed), and an admin is alerted, because
 * money left the provider without a decision here. One transaction, audited, idempotent.
 */
export async function recordExternalReversal(context: TServiceContext, input: TExternalReversalInput): Promise<TExternalReversalResult> {
  const ctx = resolveContext(context);
  for (const r of input.reversals) {
    assertMinorUnits(r.amount, "reversal amount");
    normalizeCurrency(r.currency);
  }

  return transaction(
    ctx.db,
    async (tx) => {
      const leg = await tx.payoutTransfer.findUnique({ where: { stripeTransferId: input.transferId } });
      const ref =
        (leg ? { id: leg.payoutId } : null) ??
        (await tx.payout.findUnique({ where: { stripeTransferId: input.transferId }, select: { id: true } })) ??
        (input.payoutId && isUuid(input.payoutId)
          ? await tx.payout.findUnique({ where: { id: input.payoutId }, select: { id: true } })
          : null);
      if (!ref) return { kind: "unknown_transfer" } as const;

      let { payout } = await lockPayoutAndBooking(tx, ref.id);
      if (!leg && payout.stripeTransferId === null)
        return { kind: "transfer_not_recorded", payoutId: payout.id, status: payout.status } as const;
      if (!leg && payout.stripeTransferId !== input.transferId) {
        const planned = await tx.payoutTransfer.count({ where: { payoutId: payout.id, status: "pending" } });
        if (planned > 0) return { kind: "transfer_not_recorded", payoutId: payout.id, status: payout.status } as const;
        throw new ConflictError(
          `Transfer ${input.transferId} names payout ${payout.id} in its metadata, but that payout was paid with transfer ${payout.stripeTransferId}.`,
          { payoutId: payout.id, transferId: input.transferId },
        );
      }
      // The reversed transfer's currency, and its part of the payout (a converted transfer is reversed in its own currency).
      const transferCurrency = leg?.currency ?? payout.currency;
      const toPayoutUnits = (amount: number) =>
        leg && leg.amount !== leg.payoutAmount ? mulDivFloor(amount, leg.payoutAmount, leg.amount) : amount;

      const audit = { actor: ctx.actor, runId: ctx.runId, requestId: ctx.requestId };
      const external: string[] = [];
      const confirmed: string[] = [];
      let known = 0;
      const oldestFirst = [...input.reversals].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
      for (const r of oldestFirst) {
        if (await tx.transferReversal.findUnique({ where: { stripeReversalId: r.id }, select: { id: true } })) {
          known += 1;
          continue;
        }
        const currency = normalizeCurrency(r.currency);
        if (currency !== transferCurrency) {
          throw new ConflictError(`Reversal ${r.id} is in ${currency}, transfer ${input.transferId} in ${transferCurrency}.`, {
            payoutId: payout.id,
          });
        }
        const amount = toPayoutUnits(r.amount);
        const reversedAmount = payout.reversedAmount + amount;
        // What the provider lost after the transfer (reversed less repaid) never exceeds the payout's amount.
        if (reversedAmount - payout.repaidAmount > payout.amount) {
          throw new ConflictError(
            `Reversal ${r.id} of ${formatMoney(r.amount, currency)} would take ${formatMoney(reversedAmount - payout.repaidAmount, payout.currency)} of payout ${payout.id} in all, more than its ${formatMoney(payout.amount, payout.currency)}.`,
            { payoutId: payout.id },
          );
        }
        const event = reversalEvent(payout, reversedAmount, payout.repaidAmount);

        const ownId = r.metadata.reversalId;
        const own = ownId && isUuid(ownId) ? await tx.transferReversal.findUnique({ where: { id: ownId } }) : null;
        if (own && own.payoutId === payout.id && own.status === "pending" && (own.transferAmount ?? own.amount) === r.amount) {
          payout = await confirmReversal(tx, audit, payout, own, r.id, "refund after transfer (confirmed by Stripe's transfer.reversed)");
          confirmed.push(own.id);
          continue;
        }

        const reversal = await tx.transferReversal.create({
          data: {
            payoutId: payout.id,
            payoutTransferId: leg?.id ?? null,
            stripeReversalId: r.id,
            amount,
            currency: payout.currency,
            transferAmount: r.amount,
            transferCurrency: currency,
            status: "succeeded",
            initiatedBy: "stripe",
          },
        });
        payout = await changePayout(tx, payout, {
          event,
          data: { reversedAmount },
          audit: {
            ...audit,
            action: "payout.reversed_externally",
            reason: `Stripe reports reversal ${r.id} of transfer ${input.transferId}, not made by the payout system`,
            details: {
              stripeReversalId: r.id,
              reversalAmount: amount,
              transferAmount: r.amount,
              transferCurrency: currency,
              reversalId: reversal.id,
            },
          },
        });
        const pending = await tx.transferReversal.count({ where: { payoutId: payout.id, status: "pending" } });
        await raiseAlert(tx, {
          kind: "external_reversal",
          severity: "critical",
          title: "Transfer reversed outside the payout system",
          message:
            `${formatMoney(r.amount, currency)} of transfer ${input.transferId} (payout ${payout.id}) was reversed at Stripe (${r.id}) without a decision here. ` +
            `The payout now shows ${formatMoney(payout.reversedAmount - payout.repaidAmount, payout.currency)} of ${formatMoney(payout.amount, payout.currency)} taken back.` +
            (pending > 0
              ? ` ${pending} reversal(s) requested here are still pending: check this one is not the same money taken twice.`
              : ""),
          payoutId: payout.id,
          providerId: payout.providerId,
          dedupeKey: `external_reversal:${r.id}`,
        });
        external.push(reversal.id);
      }
      return { kind: "recorded", payout, external, confirmed, known } as const;
    },
    TX_OPTIONS,
  );
}
