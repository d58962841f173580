import "server-only";

import type { Payout } from "@/generated/prisma/client";
import { ZReason } from "@/lib/audit/reason";
import type { TActor } from "@/lib/audit/record-audit";
import { resolveContext, TX_OPTIONS, type TResolvedContext, type TServiceContext } from "@/lib/context";
import type { Tx } from "@/lib/db";
import { transaction } from "@/lib/direct-sql";
import { ConflictError, ValidationError } from "@/lib/errors";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";

import { PayoutVersionConflictError } from "./change-payout";
import { lockPayoutAndBooking, type TLockedBooking } from "./lock-booking";
import { ACTION_EVENTS, evaluatePayoutAction, providerActionFacts, refusalMessage, type TPayoutAction } from "./payout-actions";
import { canTransition, IllegalTransitionError } from "./state-machine";
import { syncPayoutWithBooking } from "./sync-payout-with-booking";

export type TAdminActionInput = {
  payoutId: string;
  /** Required: why the admin does this (kept in the audit log). */
  reason: string;
  /** When given, the action applies only if the payout is still at this version. */
  expectedVersion?: number;
};

export type TAdminActionResult = { payout: Payout; transferRequested: boolean };

export function requireReason(reason: string): string {
  const parsed = ZReason.safeParse(reason);
  if (!parsed.success) throw new ValidationError(parsed.error.issues[0]!.message, { field: "reason" });
  return parsed.data;
}

function requireAdminActor(actor: TActor): TActor {
  if (actor.type !== "admin") throw new ValidationError("Admin operations need an admin user as the actor.");
  return actor;
}

/**
 * The frame every admin operation shares: one transaction that locks the booking and
 * the payout, checks the expected version and the action's preconditions (the ones the
 * dashboard's buttons show: evaluatePayoutAction), applies the operation (which writes its
 * audit entry through changePayout), lets the payout follow the booking's facts again,
 * and records `payout/admin.action` plus a transfer request when one is now due.
 */
export async function runAdminPayoutAction(
  context: TServiceContext,
  input: TAdminActionInput,
  action: TPayoutAction,
  apply: (
    tx: Tx,
    state: { payout: Payout; booking: TLockedBooking; reason: string; ctx: TResolvedContext; openDisputes: number },
  ) => Promise<Payout>,
): Promise<TAdminActionResult> {
  const ctx = resolveContext({ ...context, actor: requireAdminActor(context.actor) });
  const reason = requireReason(input.reason);
  return transaction(
    ctx.db,
    async (tx) => {
      const { booking, payout } = await lockPayoutAndBooking(tx, input.payoutId);
      if (input.expectedVersion !== undefined && input.expectedVersion !== payout.version) {
        throw new PayoutVersionConflictError(payout.id, input.expectedVersion, payout.version);
      }
      const openDisputes = await tx.dispute.count({ where: { bookingId: booking.id, status: "open" } });
      // The part already transferred, in the payout's currency, as the detail page reads it for the buttons.
      const transferred = await tx.payoutTransfer.aggregate({
        where: { payoutId: payout.id, kind: "payout", status: "succeeded" },
        _sum: { payoutAmount: true },
      });
      const verdict = evaluatePayoutAction(action, {
        status: payout.status,
        holdReason: payout.holdReason,
        openDisputes,
        ...providerActionFacts(booking.provider),
        // A pending four-eyes request is lib/approvals' to check: its approval runs this.
        pendingApproval: null,
        transferredPart: transferred._sum.payoutAmount ?? 0,
      });
      if (!verdict.allowed) {
        if (!canTransition(payout.status, ACTION_EVENTS[action])) throw new IllegalTransitionError(payout.status, ACTION_EVENTS[action]);
        throw new ConflictError(refusalMessage(action, verdict.reason), { payoutId: payout.id });
      }
      await apply(tx, { payout, booking, reason, ctx, openDisputes });
      const synced = await syncPayoutWithBooking(tx, booking, ctx, { reason });
      const after = synced.payout ?? (await tx.payout.findUniqueOrThrow({ where: { id: payout.id } }));
      await enqueueEvent(tx, {
        name: "payout/admin.action",
        data: { payoutId: after.id, action, actorId: ctx.actor.id, at: ctx.clock.now().toISOString() },
        eventId: `admin:${after.id}:v${after.version}`,
      });
      return { payout: after, transferRequested: synced.transferRequested };
    },
    TX_OPTIONS,
  );
}
