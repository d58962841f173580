import "server-only";

import { z } from "zod";

import type { DebtClosingRequest, ProviderDebt } from "@/generated/prisma/client";
import type { DebtClosing } from "@/generated/prisma/enums";
import { ZReason } from "@/lib/audit/reason";
import { recordAudit, type TActor } from "@/lib/audit/record-audit";
import { requireIndependentApprover } from "@/lib/auth/independent-approver";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import type { Tx } from "@/lib/db";
import { transaction } from "@/lib/direct-sql";
import { getEnv } from "@/lib/env";
import { ConflictError, NotFoundError, ValidationError } from "@/lib/errors";
import { formatMoney } from "@/lib/money/format-money";

import { requireReason } from "./admin-action";
import { lockDebts } from "./debt-recovery-rows";
import { fourEyesThresholdFor, needsSecondApproval } from "./four-eyes";

// An admin waives a provider's debt (forgiven: the provider does not owe it) or writes it off
// (not collectable), with a reason, for what is left of it after recoveries from later payouts.
// At or above FOUR_EYES_THRESHOLD (in the debt's currency) nothing closes: a pending request waits
// for a second, independent admin (requireIndependentApprover), who approves or rejects it. Each
// step is one transaction with its audit entry, on the timeline of the payout whose failed
// reversal made the debt. Under the debt's lock (the order recoveries use), so a recovery and a
// closing never both take the same part.

export const ZDebtClosing = z.object({ closing: z.enum(["waive", "write_off"]), reason: ZReason }).strict();
export type TDebtClosingInput = z.infer<typeof ZDebtClosing>;

export type TDebtClosingOutcome =
  { outcome: "closed"; debt: ProviderDebt } | { outcome: "approval_requested"; debt: ProviderDebt; request: DebtClosingRequest };

const CLOSED_STATUS = { waive: "waived", write_off: "written_off" } as const satisfies Record<DebtClosing, string>;
const CLOSED_ACTION = { waive: "provider.debt_waived", write_off: "provider.debt_written_off" } as const;

function requireAdmin(actor: TActor): TActor & { type: "admin" } {
  if (actor.type !== "admin") throw new ValidationError("Waiving or writing off a debt needs an admin user as the actor.");
  return actor;
}

async function lockDebt(tx: Tx, debtId: string): Promise<ProviderDebt> {
  const [debt] = await lockDebts(tx, { ids: [debtId] });
  if (!debt) throw new NotFoundError("Debt", debtId);
  return debt;
}

/** What is left to close of an open debt, or a 409 saying why it cannot be closed now. */
async function closableLeft(tx: Tx, debt: ProviderDebt): Promise<number> {
  if (debt.status !== "open") throw new ConflictError(`The debt is already ${debt.status.replaceAll("_", " ")}.`);
  const reserved = await tx.debtRecovery.count({ where: { debtId: debt.id, status: "reserved" } });
  if (reserved > 0) {
    throw new ConflictError("A payout being transferred is recovering part of this debt; try again once its transfer settles.");
  }
  const left = debt.amount - debt.recoveredAmount;
  if (left <= 0) throw new ConflictError("Nothing is left of this debt.");
  return left;
}

async function closeDebt(
  tx: Tx,
  debt: ProviderDebt,
  closing: DebtClosing,
  entry: { actor: TActor; reason: string; requestId?: string | null; approvedRequestId?: string; now: Date },
): Promise<ProviderDebt> {
  const left = debt.amount - debt.recoveredAmount;
  const closed = await tx.providerDebt.update({
    where: { id: debt.id },
    data: { status: CLOSED_STATUS[closing], closedReason: entry.reason, settledAt: entry.now },
  });
  await recordAudit(tx, {
    actor: entry.actor,
    action: CLOSED_ACTION[closing],
    entityType: "payout",
    entityId: debt.payoutId,
    reason: entry.reason,
    before: { debtId: debt.id, status: debt.status, left, currency: debt.currency },
    after: {
      debtId: debt.id,
      status: closed.status,
      amount: left,
      recovered: debt.recoveredAmount,
      currency: debt.currency,
      ...(entry.approvedRequestId ? { approvedRequestId: entry.approvedRequestId } : {}),
    },
    requestId: entry.requestId ?? null,
  });
  return closed;
}

/**
 * Admin: waive or write off what is left of an open debt. Below the four-eyes threshold it closes
 * at once; at or above it a pending request is recorded for a second admin. Running it again
 * returns the pending request it made (one pending per debt, a unique index), or 409 once closed.
 */
export async function requestDebtClosing(
  context: TServiceContext,
  input: { debtId: string } & TDebtClosingInput,
  options: { fourEyesThreshold?: number } = {},
): Promise<TDebtClosingOutcome> {
  const actor = requireAdmin(context.actor);
  const reason = requireReason(input.reason);
  const threshold = options.fourEyesThreshold ?? getEnv().FOUR_EYES_THRESHOLD;
  const ctx = resolveContext(context);
  return transaction(
    ctx.db,
    async (tx): Promise<TDebtClosingOutcome> => {
      const debt = await lockDebt(tx, input.debtId);
      const pending = await tx.debtClosingRequest.findFirst({ where: { debtId: debt.id, status: "pending" } });
      if (pending) {
        if (pending.requestedById === actor.id && pending.closing === input.closing)
          return { outcome: "approval_requested", debt, request: pending };
        throw new ConflictError("A request to close this debt already waits for a second admin.");
      }
      const left = await closableLeft(tx, debt);
      const now = ctx.clock.now();
      if (!needsSecondApproval(left, debt.currency, threshold)) {
        return { outcome: "closed", debt: await closeDebt(tx, debt, input.closing, { actor, reason, requestId: ctx.requestId, now }) };
      }
      const request = await tx.debtClosingRequest.create({
        data: { debtId: debt.id, closing: input.closing, amount: left, currency: debt.currency, reason, requestedById: actor.id },
      });
      await recordAudit(tx, {
        actor,
        action: "provider.debt_closing_requested",
        entityType: "payout",
        entityId: debt.payoutId,
        reason,
        after: {
          debtId: debt.id,
          requestId: request.id,
          closing: input.closing,
          amount: left,
          currency: debt.currency,
          threshold: fourEyesThresholdFor(debt.currency, threshold),
        },
        requestId: ctx.requestId ?? null,
      });
      return { outcome: "approval_requested", debt, request };
    },
    TX_OPTIONS,
  );
}

/**
 * A second admin approves (the debt closes, with them as the actor) or rejects a pending request.
 * The requester cannot approve it (requireIndependentApprover, 403). A request whose debt changed
 * since (recovered in part, closed) is cancelled instead of approved (409).
 */
export async function decideDebtClosing(
  context: TServiceContext,
  input: { requestId: string; approve: boolean; reason: string },
): Promise<{ request: DebtClosingRequest; debt: ProviderDebt }> {
  const actor = requireAdmin(context.actor);
  const reason = requireReason(input.reason);
  const ctx = resolveContext(context);
  const result = await transaction(
    ctx.db,
    async (tx) => {
      const found = await tx.debtClosingRequest.findUnique({ where: { id: input.requestId }, select: { debtId: true } });
      if (!found) throw new NotFoundError("Debt closing request", input.requestId);
      const debt = await lockDebt(tx, found.debtId);
      const request = await tx.debtClosingRequest.findUniqueOrThrow({ where: { id: input.requestId } });
      if (request.status !== "pending") throw new ConflictError(`The request was already ${request.status}.`);
      const now = ctx.clock.now();
      if (!input.approve) {
        const rejected = await tx.debtClosingRequest.update({
          where: { id: request.id },
          data: { status: "rejected", decidedById: actor.id, decidedAt: now },
        });
        await recordAudit(tx, {
          actor,
          action: "provider.debt_closing_rejected",
          entityType: "payout",
          entityId: debt.payoutId,
          reason,
          after: { debtId: debt.id, requestId: request.id, closing: request.closing },
          requestId: ctx.requestId ?? null,
        });
        return { kind: "done" as const, request: rejected, debt };
      }
      await requireIndependentApprover(tx, {
        approverId: actor.id,
        requesterId: request.requestedById,
        requestedAt: request.createdAt,
        what: "debt closing",
      });
      const left = debt.status === "open" ? debt.amount - debt.recoveredAmount : 0;
      if (debt.status !== "open" || left !== request.amount) {
        const cancelled = await tx.debtClosingRequest.update({ where: { id: request.id }, data: { status: "cancelled", decidedAt: now } });
        const why =
          debt.status !== "open"
            ? `the debt is ${debt.status.replaceAll("_", " ")} now`
            : `${formatMoney(left, debt.currency)} is left of it now, not the ${formatMoney(request.amount, request.currency)} requested`;
        // Kept, so audited in the same transaction like every change.
        await recordAudit(tx, {
          actor,
          action: "provider.debt_closing_cancelled",
          entityType: "payout",
          entityId: debt.payoutId,
          reason: `the request no longer matches the debt: ${why}`,
          after: { debtId: debt.id, requestId: request.id, closing: request.closing, requested: request.amount, left, status: debt.status },
          requestId: ctx.requestId ?? null,
        });
        return { kind: "stale" as const, request: cancelled, debt, why };
      }
      await closableLeft(tx, debt);
      const approved = await tx.debtClosingRequest.update({
        where: { id: request.id },
        data: { status: "approved", decidedById: actor.id, decidedAt: now },
      });
      const closed = await closeDebt(tx, debt, request.closing, {
        actor,
        reason: `${request.reason} (approved: ${reason})`,
        requestId: ctx.requestId,
        approvedRequestId: request.id,
        now,
      });
      return { kind: "done" as const, request: approved, debt: closed };
    },
    TX_OPTIONS,
  );
  // The cancellation is kept (committed above); the approver is told why nothing closed.
  if (result.kind === "stale") throw new ConflictError(`The request no longer matches the debt (${result.why}); it was cancelled.`);
  return { request: result.request, debt: result.debt };
}
