// The invariants every history must keep, checked against what the fake Stripe holds (the money
// that really moved) and what the rules say from the facts the simulation itself created.
// The rules are written here again on purpose, from docs/webhooks.md and the design, not
// imported from the engine: an oracle that shares the engine's code shares its bugs.
import type Stripe from "stripe";

import type { PayoutStatus } from "@/generated/prisma/enums";
import { db } from "@/lib/db";
import { getOverview } from "@/lib/overview/get-overview";
import type { TPayoutEvent } from "@/lib/payouts/state-machine";

import { HOUR, type THistory, type TSimBooking } from "./model";
import type { TPlayLog, TSimWorld } from "./play";

export type TInvariant = "I0" | "I1" | "I2" | "I3" | "I4" | "I5" | "I6" | "I7";

export type TViolation = { invariant: TInvariant; message: string };

const TRANSFERRED: PayoutStatus[] = ["transferred", "partially_reversed", "reversed"];
const TIP_WINDOW_MS = 24 * HOUR;
const PAYOUT_DELAY_MS = 48 * HOUR;

// The state machine's transitions, restated from docs/design.md ("Payout states") rather than
// imported from lib/payouts/state-machine.ts (the oracle must not share the engine's table).
// Keyed by the engine's event names, so an event added there is a compile error here.
const TRANSITIONS: Record<TPayoutEvent, Partial<Record<PayoutStatus, PayoutStatus>>> = {
  hold: { scheduled: "on_hold" },
  release: { on_hold: "scheduled" },
  force_release: { scheduled: "scheduled", on_hold: "scheduled" },
  claim: { scheduled: "processing" },
  unclaim_to_scheduled: { processing: "scheduled" },
  unclaim_to_hold: { processing: "on_hold" },
  transfer_succeeded: { processing: "transferred" },
  transfer_retry: { processing: "processing" },
  transfer_failed: { processing: "failed" },
  retry: { failed: "scheduled" },
  cancel: { scheduled: "cancelled", on_hold: "cancelled", failed: "cancelled" },
  reverse_partially: { transferred: "partially_reversed", partially_reversed: "partially_reversed", reversed: "partially_reversed" },
  reverse_fully: { transferred: "reversed", partially_reversed: "reversed", reversed: "reversed" },
  unreverse: { transferred: "transferred", partially_reversed: "transferred", reversed: "transferred" },
  reopen: { cancelled: "scheduled" },
  // The provider's debts took the whole payout at its claim (docs/architecture.md, "Debt recovery").
  apply_to_debt: { scheduled: "applied_to_debt" },
};

const legal = (from: PayoutStatus, to: PayoutStatus) => Object.values(TRANSITIONS).some((transition) => transition[from] === to);

/** A payout's end state, compared between two plays of the same facts (I6). */
export type TOutcome = Record<
  string,
  { status: PayoutStatus | "none"; amount: number; tipAmount: number; refundedAmount: number; net: number }
>;

export async function checkInvariants(
  world: TSimWorld,
  history: THistory,
  log: TPlayLog,
): Promise<{ violations: TViolation[]; outcome: TOutcome }> {
  const violations: TViolation[] = log.problems.map((p) => ({ invariant: "I0" as const, message: `op ${p.op}: ${p.what}` }));
  const v = (invariant: TInvariant, message: string) => violations.push({ invariant, message });
  const { fake } = world;

  const payouts = await db.payout.findMany({
    include: {
      booking: { include: { tips: true, disputes: true, provider: true } },
      transfers: true,
      reversals: true,
      debts: true,
      alerts: true,
    },
  });
  const transfers = fake.transfers();
  const reversals = fake.reversals();
  const requests = fake.requests();
  const outcome: TOutcome = {};

  // I2: every transfer Stripe holds belongs to exactly one payout transfer we recorded, with the same amount, currency and destination.
  const legsByStripeId = new Map(
    payouts.flatMap((p) => p.transfers.filter((t) => t.stripeTransferId).map((t) => [t.stripeTransferId!, { leg: t, payout: p }] as const)),
  );
  for (const t of transfers) {
    const found = legsByStripeId.get(t.id);
    if (!found) {
      v("I2", `Stripe transfer ${t.id} (${t.amount} ${t.currency}, payout ${t.metadata?.payoutId}) is recorded on no payout transfer`);
      continue;
    }
    const { leg, payout } = found;
    if (leg.status !== "succeeded") v("I2", `Stripe transfer ${t.id} exists but its payout transfer is ${leg.status}`);
    if (t.metadata?.payoutId !== payout.id)
      v("I2", `Stripe transfer ${t.id} names payout ${t.metadata?.payoutId}, recorded on ${payout.id}`);
    if (leg.amount !== t.amount || leg.currency.toLowerCase() !== t.currency)
      v("I2", `Stripe transfer ${t.id} is ${t.amount} ${t.currency}, recorded as ${leg.amount} ${leg.currency}`);
    if (t.destination !== payout.booking.provider.stripeAccountId)
      v(
        "I2",
        `Stripe transfer ${t.id} went to ${String(t.destination)}, the provider's account is ${payout.booking.provider.stripeAccountId}`,
      );
  }
  for (const p of payouts) {
    for (const leg of p.transfers.filter((t) => t.status === "succeeded")) {
      if (!transfers.some((t) => t.id === leg.stripeTransferId))
        v(
          "I2",
          `payout ${p.id}: transfer leg ${leg.leg} (v${leg.amountVersion}) is succeeded but Stripe has no transfer ${leg.stripeTransferId}`,
        );
    }
  }

  // I1, debt recovery (docs/architecture.md, "Debt recovery"): what a debt's recoveries took
  // (reserved or applied) is its recoveredAmount, within its amount; what a payout's recoveries hold
  // is its debtRecoveredAmount; a reservation lives only while its payout is being transferred (or put back to be retried), an
  // applied one only on a payout transferred or applied to debt; a settled debt has nothing left.
  const debtRows = await db.providerDebt.findMany({ include: { recoveries: true } });
  for (const d of debtRows) {
    const held = d.recoveries.filter((r) => r.status !== "released").reduce((s, r) => s + r.amount, 0);
    if (held !== d.recoveredAmount) v("I1", `debt ${d.id}: its recoveries took ${held}, its recoveredAmount says ${d.recoveredAmount}`);
    if (d.recoveredAmount > d.amount) v("I1", `debt ${d.id}: ${d.recoveredAmount} recovered of ${d.amount}`);
    if (d.status === "settled" && (d.recoveredAmount !== d.amount || d.recoveries.some((r) => r.status === "reserved")))
      v("I1", `debt ${d.id} is settled with ${d.amount - d.recoveredAmount} left or a reservation still held`);
  }
  for (const p of payouts) {
    const rows = debtRows.flatMap((d) => d.recoveries).filter((r) => r.payoutId === p.id);
    const held = rows.filter((r) => r.status !== "released").reduce((s, r) => s + r.amount, 0);
    if (held !== p.debtRecoveredAmount)
      v("I1", `payout ${p.id} (${p.status}): debtRecoveredAmount ${p.debtRecoveredAmount}, its recoveries hold ${held}`);
    // (Scheduled too: a claim put back keeps its reservation for the retry under the same keys.)
    if (rows.some((r) => r.status === "reserved") && p.status !== "processing" && p.status !== "scheduled")
      v("I1", `payout ${p.id} is ${p.status} but still holds a debt reservation`);
    if (
      rows.some((r) => r.status === "applied") &&
      !["transferred", "partially_reversed", "reversed", "applied_to_debt"].includes(p.status)
    )
      v("I1", `payout ${p.id} is ${p.status} but a debt recovery was applied from it`);
  }

  const simBookingOf = new Map([...log.bookingIds].map(([key, id]) => [id, history.bookings.find((b) => b.key === key)!]));
  const bookingDeliveries = await db.webhookEvent.findMany({
    where: { source: "booking_platform" },
    select: { type: true, payload: true, receivedAt: true },
  });

  for (const p of payouts) {
    const sim = simBookingOf.get(p.booking.externalId);
    if (!sim) {
      v("I0", `payout ${p.id} for a booking the history never made (${p.booking.externalId})`);
      continue;
    }
    const mine = transfers.filter((t) => t.metadata?.payoutId === p.id);
    const paid = mine.reduce((s, t) => s + t.amount, 0);
    const reversed = reversals.filter((r) => mine.some((t) => t.id === r.transfer)).reduce((s, r) => s + r.amount, 0);
    const net = paid - reversed;
    // What the provider owes back on this payout: open debts, and settled ones (recovered from a
    // later payout: the money was taken there, not here). Waived or written off: forgiven.
    const openDebt = p.debts.filter((d) => d.status === "open" || d.status === "settled").reduce((s, d) => s + d.amount, 0);
    // What this payout kept for the provider's debts (on other payouts) instead of transferring it.
    const recoveredHere = p.debtRecoveredAmount;
    const owed = owedByRules(sim, p, log, fake);
    const audits = await db.auditLog.findMany({
      where: { entityType: "payout", entityId: p.id },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    });
    const forceReleased = audits.some(
      (a) =>
        a.action === "payout.force_released" ||
        (a.action === "payout.released" && a.actorType === "admin" && /force/i.test(a.reason ?? "")),
    );
    const openAlert = p.alerts.some((a) => a.acknowledgedAt === null);
    outcome[sim.key] = { status: p.status, amount: p.amount, tipAmount: p.tipAmount, refundedAmount: p.refundedAmount, net };

    // Tips: one in the window, received before any money moved, on a booking not cancelled, is accepted.
    for (const tip of p.booking.tips) {
      if (tip.status !== "rejected") continue;
      const inWindow = tip.tippedAt.getTime() <= p.booking.completedAt!.getTime() + TIP_WINDOW_MS;
      const reason = tip.rejectionReason ?? "";
      if (reason.includes("window") && inWindow) v("I1", `tip ${tip.externalId} rejected as late though tipped in the window`);
      if (reason === "the payout was cancelled" && p.cancelReason === "fully refunded" && !p.booking.cancelledAt) {
        v(
          "I1",
          `tip ${tip.externalId} (${tip.amount}, tipped in the window) rejected because refunds had closed the payout: it must join it`,
        );
      }
      if (reason.includes("already transferred")) {
        const delivery = bookingDeliveries.find(
          (d) => d.type === "tip.created" && (d.payload as { data?: { tipId?: string } }).data?.tipId === tip.externalId,
        );
        const firstTransfer = requests.find(
          (r) => r.method === "POST" && r.path === "/v1/transfers" && r.params["metadata[payoutId]"] === p.id && r.status === 200,
        );
        if (delivery && firstTransfer && delivery.receivedAt.getTime() < firstTransfer.receivedAt) {
          v(
            "I1",
            `tip ${tip.externalId} (${tip.amount}) arrived before the payout's first transfer but was rejected as "already transferred": never paid`,
          );
        }
      }
    }

    // I1: the money.
    // A repayment Stripe refused (after a refund failed; e.g. the account cannot receive transfers)
    // is owed and waits for the sweep: it explains the difference when a person was told.
    const pendingRepayments = p.transfers.filter((t) => t.kind === "repayment" && t.status === "pending").reduce((s, t) => s + t.amount, 0);
    const repaymentAlerted = pendingRepayments > 0 && p.alerts.some((a) => a.acknowledgedAt === null && a.severity === "critical");
    if (TRANSFERRED.includes(p.status)) {
      if (net !== owed - recoveredHere + openDebt && !(repaymentAlerted && net + pendingRepayments === owed - recoveredHere + openDebt)) {
        v(
          "I1",
          `payout ${sim.key} (${p.status}): Stripe holds ${net} net (${paid} transferred − ${reversed} reversed), the rules owe ${owed}${openDebt ? ` and open debts explain ${openDebt}` : ""}`,
        );
      }
    } else if (net !== 0) {
      // Part of it was transferred and it did not go on to `transferred` (held for a review, a
      // cancellation refused): money is at the provider, so a person must have been told. Except
      // while a dispute on its booking is open: the rest waits for the dispute's outcome, as a
      // payout not yet paid would (the engine's rule, e.g. dispute-between-legs.test.ts), and no
      // more than the rules owe is at the provider (seed 22700: the share paid, the tip waiting
      // for funds, then a chargeback).
      // Likewise while it waits for funds in the platform's balance (Stripe refused a later transfer
      // for lack of them) or for the provider's account to take transfers again: it goes on when they
      // come, and a person is told should the wait for funds last (seed 61493: the tip paid from its
      // own charge, the share waiting for the balance, then for the account).
      const waitsForACause =
        p.status === "on_hold" &&
        net <= owed &&
        ((p.holdReason === "dispute_open" && p.booking.disputes.some((d) => d.status === "open")) ||
          p.holdReason === "awaiting_funds" ||
          p.holdReason === "provider_account_not_ready");
      const toldSomeone = waitsForACause || p.alerts.some((a) => a.acknowledgedAt === null && a.severity === "critical");
      if (!toldSomeone)
        v(
          "I1",
          `payout ${sim.key} is ${p.status} but Stripe holds ${net} net for it (${paid} transferred − ${reversed} reversed), and no open critical alert says so`,
        );
    }
    if (p.status === "cancelled") {
      const why = p.cancelReason ?? "";
      if (why === "fully refunded" && owed !== 0) v("I1", `payout ${sim.key} cancelled as fully refunded, but the rules owe ${owed}`);
      if (why === "booking cancelled" && !p.booking.cancelledAt) v("I1", `payout ${sim.key} cancelled for a booking that is not cancelled`);
      if (why === "fully refunded" && p.booking.cancelledAt)
        v("I1", `payout ${sim.key} cancelled as fully refunded, but its booking was cancelled`);
      // A cancelled payout still follows its booking's tips and refunds (what it would have paid),
      // whatever closed it and in whichever order the facts arrived.
      if (p.amount + recoveredHere !== owed)
        v(
          "I1",
          `payout ${sim.key} (cancelled, ${why}) says ${p.amount}${recoveredHere ? ` + ${recoveredHere} to debts` : ""}, the rules owe ${owed}`,
        );
    }
    if (p.status === "applied_to_debt" && recoveredHere !== owed)
      v("I1", `payout ${sim.key} applied to debt: ${recoveredHere} went to debts, the rules owe ${owed}`);
    if (p.status === "scheduled" || p.status === "on_hold") {
      // (A claim put back keeps what it reserved for the provider's debts: it pays that much less.)
      if (p.amount + recoveredHere !== owed && p.holdReason !== "review_required")
        v(
          "I1",
          `payout ${sim.key} (${p.status}) would pay ${p.amount}${recoveredHere ? ` + ${recoveredHere} to debts` : ""}, the rules owe ${owed}`,
        );
    }

    // I3: never before completion + 48 h unless force released; never while a dispute is open.
    const due = p.booking.completedAt!.getTime() + PAYOUT_DELAY_MS;
    for (const t of mine.filter((x) => !x.metadata?.repaymentOf)) {
      if (t.created * 1000 < due - 1000 && !forceReleased)
        v(
          "I3",
          `payout ${sim.key}: transfer ${t.id} at ${new Date(t.created * 1000).toISOString()}, before it was due (${new Date(due).toISOString()}), without a force release`,
        );
      const request = requests.find(
        (r) =>
          r.method === "POST" && r.path === "/v1/transfers" && r.params["metadata[payoutId]"] === p.id && r.status === 200 && !r.replayed,
      );
      if (request && !forceReleased) {
        for (const d of p.booking.disputes) {
          const recorded = d.createdAt.getTime();
          const closed = d.status === "open" ? Number.POSITIVE_INFINITY : d.updatedAt.getTime();
          if (!d.openedAfterTransfer && recorded < request.receivedAt && request.receivedAt < closed) {
            v("I3", `payout ${sim.key}: transferred while dispute ${d.externalId ?? d.stripeDisputeId} was open`);
          }
        }
      }
    }

    // I4: every status change is a legal transition and audited, with an actor and a reason.
    if (!audits.some((a) => a.action === "payout.scheduled")) v("I4", `payout ${sim.key} has no payout.scheduled audit entry`);
    let last: PayoutStatus | null = null;
    for (const a of audits) {
      const before = (a.before as { status?: PayoutStatus } | null)?.status;
      const after = (a.after as { status?: PayoutStatus } | null)?.status;
      if (!a.actorLabel || !a.actorType) v("I4", `audit ${a.action} on payout ${sim.key} has no actor`);
      if (before && after && before !== after) {
        if (!legal(before, after))
          v("I4", `payout ${sim.key}: ${a.action} moved it ${before} → ${after}, not a transition of the state machine`);
        if (!a.reason) v("I4", `payout ${sim.key}: ${a.action} (${before} → ${after}) has no reason`);
      }
      if (after) last = after;
    }
    if (last !== null && last !== p.status) v("I4", `payout ${sim.key} is ${p.status}, but its last audited status is ${last}`);

    // I5: nothing stuck once everything has settled.
    if (p.status === "processing" || p.status === "scheduled")
      v("I5", `payout ${sim.key} is still ${p.status} (amount ${p.amount}) after quiescence`);
    if (p.status === "on_hold" && !p.holdReason) v("I5", `payout ${sim.key} is on hold without a reason`);
    if (p.status === "failed" && !openAlert) v("I5", `payout ${sim.key} failed without an open alert`);
  }

  // A completed booking always has its payout (unless it was cancelled first).
  for (const b of history.bookings) {
    const id = log.bookingIds.get(b.key)!;
    if (payouts.some((p) => p.booking.externalId === id)) continue;
    const booking = await db.booking.findUnique({ where: { externalId: id } });
    const completedDelivered = history.ops.some(
      (op) => op.op === "deliver_platform" && op.fact.kind === "completed" && op.fact.booking === b.key,
    );
    if (completedDelivered && !booking?.cancelledAt) v("I5", `booking ${b.key} was completed but has no payout`);
    outcome[b.key] = { status: "none", amount: 0, tipAmount: 0, refundedAmount: 0, net: 0 };
  }

  // I7: the overview's figures are what SQL over the rows says.
  const overview = await getOverview(db, world.clock.now());
  const currencies = [...new Set(payouts.map((p) => p.currency))].sort();
  if (overview.currencies.join() !== currencies.join())
    v("I7", `overview: currencies ${overview.currencies.join(", ")}, the rows say ${currencies.join(", ")}`);
  for (const summary of overview.byStatus) {
    const rows = payouts.filter((p) => p.status === summary.status);
    if (summary.count !== rows.length) v("I7", `overview: ${summary.count} ${summary.status}, the rows say ${rows.length}`);
    for (const total of summary.totals) {
      const amount = rows.filter((p) => p.currency === total.currency).reduce((s, p) => s + p.amount, 0);
      if (total.amount !== amount) v("I7", `overview: ${summary.status} ${total.currency} ${total.amount}, the rows say ${amount}`);
    }
  }
  const held = payouts.filter((p) => p.status === "on_hold");
  if (overview.onHold.count !== held.length) v("I7", `overview: ${overview.onHold.count} on hold, the rows say ${held.length}`);
  for (const r of overview.onHold.byReason) {
    const n = held.filter((p) => p.holdReason === r.reason).length;
    if (r.count !== n) v("I7", `overview: ${r.count} on hold for ${r.reason}, the rows say ${n}`);
  }
  const failedIds = new Set(payouts.filter((p) => p.status === "failed").map((p) => p.id));
  if (overview.failed.payouts.some((f) => !failedIds.has(f.id)) || overview.failed.count !== failedIds.size)
    v("I7", "overview: the failed payouts differ from the rows");

  return { violations, outcome };
}

/**
 * What the rules owe the provider of one booking, from the facts: the share plus accepted tips,
 * less, per charge, min(the provider's portion, their proportional part of what Stripe reports
 * refunded + lost chargebacks), less what the platform's resolved disputes refunded; never below 0.
 */
function owedByRules(
  sim: TSimBooking,
  p: {
    booking: {
      tips: { externalId: string; status: string; amount: number; stripeChargeId: string | null }[];
      disputes: { externalId: string | null; status: string; refundedAmount: number; stripeDisputeId: string | null }[];
    };
  },
  log: TPlayLog,
  fake: TSimWorld["fake"],
): number {
  const accepted = p.booking.tips.filter((t) => t.status === "accepted");
  let owed = sim.providerShare + accepted.reduce((s, t) => s + t.amount, 0);
  const charges: { id: string; portion: number }[] = [];
  if (sim.payment !== "none") charges.push({ id: log.charges.get(sim.key)!, portion: sim.providerShare });
  for (const t of accepted) if (t.stripeChargeId) charges.push({ id: t.stripeChargeId, portion: t.amount });
  for (const { id, portion } of charges) {
    const charge: Stripe.Charge = fake.charge(id);
    const lost = [...log.stripeObjects.values()]
      .filter((o) => o.kind === "dispute" && log.charges.get(o.charge) === id)
      .map((o) => disputeOf(fake, o.id))
      .filter((d) => d.status === "lost")
      .reduce((s, d) => s + d.amount, 0);
    const refundedPart = Number((BigInt(charge.amount_refunded) * BigInt(portion)) / BigInt(charge.amount));
    owed -= Math.min(portion, refundedPart + lost);
  }
  for (const d of p.booking.disputes) {
    if (d.externalId && d.status !== "open") owed -= d.refundedAmount;
  }
  return Math.max(0, owed);
}

function disputeOf(fake: TSimWorld["fake"], id: string): { status: string; amount: number } {
  // The fake keeps disputes; the latest object is what its events carried.
  return fake.dispute(id);
}
