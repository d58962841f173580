// The demo tips: about 30 % of bookings are tipped, mostly within a couple of hours, a few twice;
// a handful arrive after the tip window closed and are rejected as lib/tips/add-tip.ts rejects them.
import { toAuditRow } from "@/lib/audit/record-audit";
import { describeLateTip } from "@/lib/payouts/timing";

import {
  addMs,
  DEMO_REJECTED_TIPS,
  HOUR,
  MINUTE,
  TIP_WINDOW_HOURS,
  tipExternalId,
  type TBookingPlan,
  type TCurrency,
  type TDemoContext,
  type TPendingTip,
} from "./demo-context";
import { ACTORS } from "./payout-story";
import type { TRandom } from "./prng";

const TIP_RATE = 0.3;

export function planTips(ctx: TDemoContext): void {
  const { random, ids } = ctx;
  type TPlannedTip = { booking: TBookingPlan; amount: number; tippedAt: Date; rejected: boolean };
  const planned: TPlannedTip[] = [];
  const latest = ctx.nowMs - 2 * MINUTE;

  for (const booking of ctx.bookings) {
    if (!booking.completed || booking.scenario === "late_cancel") continue;
    const forced = booking.scenario === "dispute_tip_refund";
    if (!forced && !random.chance(TIP_RATE)) continue;
    const completed = booking.at.getTime();
    // Most customers tip within a couple of hours; always inside the window.
    const delay = forced
      ? random.int(20, 120) * MINUTE
      : Math.min(5 * MINUTE + Math.round(-Math.log(1 - random.next()) * 2.5 * HOUR), (TIP_WINDOW_HOURS - 0.3) * HOUR);
    const tippedAt = completed + delay;
    if (tippedAt > latest) continue;
    planned.push({
      booking,
      amount: tipAmountFor(random, booking.share, booking.currency),
      tippedAt: new Date(tippedAt),
      rejected: false,
    });
    // Now and then a second, smaller tip later the same day.
    const second = tippedAt + random.int(1, 8) * HOUR;
    if (random.chance(0.06) && second < completed + (TIP_WINDOW_HOURS - 0.2) * HOUR && second < latest) {
      const amount = Math.max(100, Math.round(tipAmountFor(random, booking.share, booking.currency) / 2));
      planned.push({ booking, amount, tippedAt: new Date(second), rejected: false });
    }
  }

  // A handful of tips that came after the window closed.
  const lateCandidates = ctx.bookings.filter(
    (b) => b.completed && b.scenario === "default" && (ctx.nowMs - b.at.getTime()) / HOUR > TIP_WINDOW_HOURS + 2,
  );
  for (const booking of random.shuffle(lateCandidates).slice(0, DEMO_REJECTED_TIPS)) {
    const ageHours = (ctx.nowMs - booking.at.getTime()) / HOUR;
    const lateByHours = random.float(0.3, Math.min(36, ageHours - TIP_WINDOW_HOURS - 0.5));
    const tippedAt = new Date(booking.at.getTime() + (TIP_WINDOW_HOURS + lateByHours) * HOUR);
    planned.push({ booking, amount: tipAmountFor(random, booking.share, booking.currency), tippedAt, rejected: true });
  }

  planned.sort((a, b) => a.tippedAt.getTime() - b.tippedAt.getTime());
  for (const [i, tip] of planned.entries()) {
    const pending: TPendingTip = {
      id: ids.uuid(),
      externalId: tipExternalId(i + 1),
      bookingId: tip.booking.id,
      amount: tip.amount,
      currency: tip.booking.currency,
      stripeChargeId: ids.stripe("ch"),
      tippedAt: tip.tippedAt,
      receivedAt: addMs(tip.tippedAt, random.int(600, 6_000)),
    };
    if (!tip.rejected) {
      const list = ctx.tipsByBooking.get(tip.booking.id) ?? [];
      list.push(pending);
      ctx.tipsByBooking.set(tip.booking.id, list);
      continue;
    }
    // As lib/tips/add-tip.ts rejects it.
    const rejectionReason = describeLateTip(tip.booking.at, tip.tippedAt);
    ctx.out.tips.push({
      id: pending.id,
      externalId: pending.externalId,
      bookingId: pending.bookingId,
      payoutId: null,
      amount: pending.amount,
      currency: pending.currency,
      status: "rejected",
      rejectionReason,
      stripeChargeId: pending.stripeChargeId,
      tippedAt: pending.tippedAt,
      createdAt: pending.receivedAt,
    });
    ctx.out.audit.push(
      toAuditRow({
        actor: ACTORS.bookingWebhook,
        action: "tip.rejected",
        entityType: "tip",
        entityId: pending.id,
        reason: rejectionReason,
        after: {
          bookingId: pending.bookingId,
          payoutId: tip.booking.payoutId,
          amount: pending.amount,
          currency: pending.currency,
          tippedAt: pending.tippedAt.toISOString(),
        },
        at: pending.receivedAt,
      }),
    );
  }
}

/** Round tips (5.00, 10.00, ¥500) or a percentage of the share; never more than 35 % of it. */
function tipAmountFor(random: TRandom, share: number, currency: TCurrency): number {
  const cap = Math.round(share * 0.35);
  let amount: number;
  if (currency === "JPY") {
    amount = random.chance(0.7)
      ? random.pick([300, 500, 500, 1_000, 1_000, 1_500, 2_000])
      : Math.round((share * random.pick([0.1, 0.15, 0.2])) / 10) * 10;
  } else {
    amount = random.chance(0.6)
      ? random.pick([200, 300, 500, 500, 1_000, 1_000, 1_500, 2_000])
      : Math.round(share * random.pick([0.1, 0.15, 0.18, 0.2]));
  }
  return Math.max(1, amount > cap ? Math.round(share * 0.1) : amount);
}
