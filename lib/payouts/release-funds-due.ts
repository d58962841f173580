import "server-only";

import { raiseAlert } from "@/lib/alerts/raise-alert";
import { TX_OPTIONS, type TResolvedContext } from "@/lib/context";
import { transaction } from "@/lib/direct-sql";
import { getEnv } from "@/lib/env";
import { formatMoney } from "@/lib/money/format-money";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";

import { lockPayoutAndBooking } from "./lock-booking";
import { releaseHold } from "./release-hold";

/**
 * Payouts on hold waiting for funds: those whose expected date came are released (they are
 * transferred with the next request, or held again for another cause still present); those
 * still waiting FUNDS_WAIT_ALERT_DAYS after Stripe first refused raise one alert each.
 */
export async function releaseFundsDue(
  ctx: TResolvedContext,
  now: Date,
  limit: number,
): Promise<{ fundsDue: number; fundsWaitAlerts: number }> {
  const due = await ctx.db.payout.findMany({
    where: { status: "on_hold", holdReason: "awaiting_funds", fundsExpectedAt: { lte: now } },
    select: { id: true },
    orderBy: { fundsExpectedAt: "asc" },
    take: limit,
  });
  let fundsDue = 0;
  for (const { id } of due) {
    try {
      const released = await transaction(
        ctx.db,
        async (tx) => {
          const { booking, payout } = await lockPayoutAndBooking(tx, id);
          if (payout.status !== "on_hold" || payout.holdReason !== "awaiting_funds") return false;
          const openDisputes = await tx.dispute.count({ where: { bookingId: booking.id, status: "open" } });
          const after = await releaseHold(tx, payout, booking, openDisputes, {
            audit: { actor: ctx.actor, runId: ctx.runId, requestId: ctx.requestId },
            reason: "the funds Stripe expected are due",
          });
          if (after.status === "scheduled") {
            await enqueueEvent(tx, {
              name: "payout/transfer.requested",
              data: { payoutId: after.id, reason: "funds_due" },
              eventId: `funds-due:${after.id}:v${after.version}`,
            });
          }
          return after.status === "scheduled";
        },
        TX_OPTIONS,
      );
      if (released) fundsDue += 1;
    } catch (error) {
      console.error(`sweep: could not release payout ${id} waiting for funds`, error);
    }
  }

  const alertAfter = new Date(now.getTime() - getEnv().FUNDS_WAIT_ALERT_DAYS * 24 * 60 * 60 * 1000);
  const waiting = await ctx.db.payout.findMany({
    where: { fundsWaitingSince: { lte: alertAfter }, status: { in: ["on_hold", "scheduled", "processing"] } },
    select: { id: true, providerId: true, amount: true, currency: true, fundsWaitingSince: true, fundsExpectedAt: true },
    take: limit,
  });
  let fundsWaitAlerts = 0;
  for (const p of waiting) {
    const raised = await transaction(ctx.db, (tx) =>
      raiseAlert(tx, {
        kind: "payout_waiting_for_funds",
        severity: "warning",
        title: "Payout still waiting for funds",
        message:
          `Payout ${p.id} (${formatMoney(p.amount, p.currency)}) has waited for funds in the platform's Stripe balance since ` +
          `${p.fundsWaitingSince!.toISOString().slice(0, 10)}${p.fundsExpectedAt ? `; Stripe last expected them ${p.fundsExpectedAt.toISOString()}` : ""}. ` +
          "Top up the balance or check the charge in Stripe.",
        payoutId: p.id,
        providerId: p.providerId,
        dedupeKey: `payout_waiting_for_funds:${p.id}:${p.fundsWaitingSince!.toISOString()}`,
      }),
    );
    if (raised) fundsWaitAlerts += 1;
  }
  return { fundsDue, fundsWaitAlerts };
}
