// Issue 9: a Stripe refund that fails or is cancelled gives the provider back what it took,
// exactly once, whichever of its events (refund.failed, refund.updated, charge.refund.updated)
// arrives first: before the transfer the payout's amount is restored; after it, a reversal not
// sent yet is cancelled, and one already made at Stripe is repaid with one transfer. The refunds
// live at the fake Stripe (the handlers list the charge's refunds afresh); the events are built
// from them and posted, signed, to the webhook route.
import { randomUUID } from "node:crypto";

import type Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { getPayoutDetail } from "@/lib/payouts/get-payout-detail";
import type { TAuditTimelineItem } from "@/lib/payouts/payout-detail-types";

import { HOUR, payoutOf, startEngineHarness, transferEvent, type TEngineHarness } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { sendStripeEvent, stripeDeliveryOf, pointAppStripeAt } from "../../support/stripe-webhook";

let h: TEngineHarness;
let restoreStripe: () => void;
let admin: { id: string; role: "admin" };

beforeAll(async () => {
  h = await startEngineHarness();
  restoreStripe = pointAppStripeAt(h.fake);
  const user = await db.adminUser.create({
    data: { email: `admin-${randomUUID().slice(0, 6)}@payouts.test`, name: "Ada Admin", role: "admin", passwordHash: "x" },
  });
  admin = { id: user.id, role: "admin" };
});

afterAll(async () => {
  restoreStripe();
  await h.fake.stop();
});

beforeEach(() => {
  h.clock.set(new Date());
  globalThis.inngestReceiver.setDown(false);
});

type TFailureEvent = "refund.failed" | "refund.updated" | "charge.refund.updated";

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

/** A booking (provider share 80.00) paid with a charge of 100.00 at Stripe, refunded 25.00 there and in our books. */
async function refundedBooking() {
  const charge = h.fake.createCharge({ amount: 10_000, currency: "usd" });
  const stripeAccountId = h.account();
  const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: charge.id, stripeAccountId });
  return { charge, bookingId, stripeAccountId };
}

async function sendRefunded(chargeId: string) {
  const event = stripeEvent({ type: "charge.refunded", object: h.fake.charge(chargeId) });
  expect(await sendStripeEvent(event)).toEqual({ status: 200, body: { received: true } });
  expect(await stripeDeliveryOf(event)).toMatchObject({ status: "processed" });
}

/** The events Stripe sends for a refund that moved to `refund`'s (failed or canceled) status. */
function failureEvents(refund: Stripe.Refund, types: readonly TFailureEvent[], created = Math.floor(Date.now() / 1000)) {
  return types.map((type) =>
    stripeEvent({
      type,
      object: refund,
      created,
      ...(type === "refund.failed" ? {} : { previousAttributes: { status: "succeeded", failure_reason: null } }),
    }),
  );
}

async function sendAll(events: readonly { id: string }[]) {
  for (const event of events) {
    expect(await sendStripeEvent(event)).toEqual({ status: 200, body: { received: true } });
    expect(await stripeDeliveryOf(event)).toMatchObject({ status: "processed" });
  }
}

const auditCount = (entityId: string, action: string) => db.auditLog.count({ where: { entityId, action } });

async function transferred(bookingId: string) {
  h.clock.advance(48 * HOUR + 1);
  const payout = await payoutOf(bookingId);
  expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });
  return payoutOf(bookingId);
}

/** The requests that created reversals of a transfer at the fake Stripe. */
const reversalPosts = (transferId: string) =>
  h.fake.requests().filter((r) => r.method === "POST" && r.path === `/v1/transfers/${transferId}/reversals` && r.status === 200);

describe("before the transfer", () => {
  const cases: { status: "failed" | "canceled"; types: TFailureEvent[] }[] = [
    // A failed refund: Stripe sends all three.
    { status: "failed", types: ["refund.failed", "refund.updated", "charge.refund.updated"] },
    // A cancelled refund is reported by refund.updated (and charge.refund.updated).
    { status: "canceled", types: ["refund.updated", "charge.refund.updated"] },
  ];

  for (const { status, types } of cases) {
    for (const order of permutations(types)) {
      it(`a refund ${status}, reported as ${order.join(" → ")}: the payout's amount is restored once`, async () => {
        const { charge, bookingId } = await refundedBooking();
        const refund = h.fake.refundCharge(charge.id, { amount: 2_500 });
        await sendRefunded(charge.id);
        expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", refundedAmount: 2_000, amount: 6_000, amountVersion: 2 });

        const gone = h.fake.setRefundStatus(refund.id, status, status === "failed" ? "expired_or_canceled_card" : undefined);
        await sendAll(failureEvents(gone, order));

        const payout = await payoutOf(bookingId);
        expect(payout).toMatchObject({ status: "scheduled", refundedAmount: 0, amount: 8_000, amountVersion: 3 });
        expect(await db.chargeRefund.findMany({ where: { bookingId }, orderBy: { sequence: "asc" } })).toMatchObject([
          { sequence: 1, cause: "refund", customerRefundedTotal: 2_500, amount: 2_000 },
          { sequence: 2, cause: "refund_failed", customerRefundedTotal: 0, providerRefundedTotal: 0, amount: -2_000 },
        ]);
        expect(await db.stripeRefund.findUniqueOrThrow({ where: { id: refund.id } })).toMatchObject({
          status,
          stripeChargeId: charge.id,
          amount: 2_500,
        });
        expect(await auditCount(bookingId, "booking.charge_refund_failed")).toBe(1);
        expect(await auditCount(payout.id, "payout.amount_adjusted")).toBe(2);
        expect(await db.alert.count({ where: { payoutId: payout.id } })).toBe(0);
      });
    }
  }

  it("with Stripe down, the events' own figures give the refund back once too", async () => {
    const { charge, bookingId } = await refundedBooking();
    const refund = h.fake.refundCharge(charge.id, { amount: 2_500 });
    // The refund fails within the second in which charge.refunded's handler saw it succeed (at
    // Stripe's whole seconds the two cannot be ordered; a failed refund is final there).
    const second = Math.floor(Date.now() / 1000);
    await sendRefunded(charge.id);
    expect(await db.stripeRefund.findUniqueOrThrow({ where: { id: refund.id } })).toMatchObject({ status: "succeeded" });
    const gone = h.fake.setRefundStatus(refund.id, "failed");
    const since = h.fake.requests().length;
    h.fake.failNext({ method: "GET", path: `/v1/charges/${charge.id}` }, { kind: "status", status: 503 }, 3);
    await sendAll(failureEvents(gone, ["charge.refund.updated", "refund.failed", "refund.updated"], second));
    // Each handler asked, and was refused.
    expect(
      h.fake
        .requests()
        .slice(since)
        .filter((r) => r.path === `/v1/charges/${charge.id}`)
        .map((r) => r.status),
    ).toEqual([503, 503, 503]);
    expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 0, amount: 8_000, amountVersion: 3 });
    expect(await db.chargeRefund.findMany({ where: { bookingId }, orderBy: { sequence: "asc" } })).toMatchObject([
      { amount: 2_000 },
      { amount: -2_000, cause: "refund_failed" },
    ]);
  });

  it("a refund that failed before its charge.refunded arrived never lowers the payout", async () => {
    const { charge, bookingId } = await refundedBooking();
    const refund = h.fake.refundCharge(charge.id, { amount: 2_500 });
    // The charge.refunded Stripe sent when the refund was made, delivered late.
    const late = stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id), created: Math.floor(Date.now() / 1000) - 60 });
    const gone = h.fake.setRefundStatus(refund.id, "failed");
    await sendAll([...failureEvents(gone, ["refund.failed", "refund.updated", "charge.refund.updated"]), late]);
    expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 0, amount: 8_000, amountVersion: 1 });
    expect(await db.chargeRefund.count({ where: { bookingId } })).toBe(0);
  });

  it("only the failed one of two refunds is given back", async () => {
    const { charge, bookingId } = await refundedBooking();
    h.fake.refundCharge(charge.id, { amount: 2_500 });
    const second = h.fake.refundCharge(charge.id, { amount: 5_000 });
    await sendRefunded(charge.id);
    // 75.00 of 100.00 refunded: 80 % is 60.00.
    expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 6_000, amount: 2_000 });
    await sendAll(failureEvents(h.fake.setRefundStatus(second.id, "failed"), ["charge.refund.updated", "refund.failed"]));
    expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 2_000, amount: 6_000 });
  });
});

describe("after the transfer", () => {
  it("while its reversal is still pending (not sent): the reversal is cancelled and nothing is reversed at Stripe", async () => {
    const { charge, bookingId } = await refundedBooking();
    const payout = await transferred(bookingId);
    const transferId = payout.stripeTransferId!;
    const refund = h.fake.refundCharge(charge.id, { amount: 2_500 });
    await sendRefunded(charge.id);
    const [reversal] = await db.transferReversal.findMany({ where: { payoutId: payout.id } });
    expect(reversal).toMatchObject({ amount: 2_000, status: "pending", sentAt: null, initiatedBy: "platform" });

    await sendAll(failureEvents(h.fake.setRefundStatus(refund.id, "failed"), ["refund.updated", "refund.failed", "charge.refund.updated"]));
    expect(await db.transferReversal.findMany({ where: { payoutId: payout.id } })).toMatchObject([
      { id: reversal!.id, status: "canceled", stripeReversalId: null, failureReason: expect.stringContaining("failed") },
    ]);
    // Its run, when it comes, finds nothing to do.
    expect(
      (await h.run("reverse", { name: "payout/reversal.requested", data: { reversalId: reversal!.id, payoutId: payout.id } })).result,
    ).toMatchObject({
      kind: "already_done",
      status: "canceled",
    });
    expect(h.fake.reversals().filter((r) => r.transfer === transferId)).toEqual([]);
    expect(reversalPosts(transferId)).toEqual([]);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred", amount: 8_000, reversedAmount: 0, repaidAmount: 0 });
    expect(await db.payoutTransfer.count({ where: { payoutId: payout.id, kind: "repayment" } })).toBe(0);
    expect(await auditCount(payout.id, "payout.reversal_canceled")).toBe(1);
    expect(await auditCount(bookingId, "booking.charge_refund_failed")).toBe(1);
    expect(h.transfersFor(payout.id)).toHaveLength(1);
  });

  it("after its reversal was made at Stripe: one repayment transfer of exactly that amount, the payout transferred again", async () => {
    const { charge, bookingId, stripeAccountId } = await refundedBooking();
    const payout = await transferred(bookingId);
    const transferId = payout.stripeTransferId!;
    const refund = h.fake.refundCharge(charge.id, { amount: 2_500 });
    await sendRefunded(charge.id);
    const [reversal] = await db.transferReversal.findMany({ where: { payoutId: payout.id } });
    expect(
      (await h.run("reverse", { name: "payout/reversal.requested", data: { reversalId: reversal!.id, payoutId: payout.id } })).result,
    ).toMatchObject({ kind: "reversed" });
    expect(
      h.fake
        .reversals()
        .filter((r) => r.transfer === transferId)
        .map((r) => r.amount),
    ).toEqual([2_000]);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "partially_reversed", reversedAmount: 2_000, repaidAmount: 0 });

    // The refund fails; Stripe reports it three times.
    await sendAll(
      failureEvents(h.fake.setRefundStatus(refund.id, "failed", "lost_or_stolen_card"), [
        "refund.failed",
        "charge.refund.updated",
        "refund.updated",
      ]),
    );
    const failedStep = await db.chargeRefund.findFirstOrThrow({ where: { bookingId, cause: "refund_failed" } });
    expect(failedStep).toMatchObject({ amount: -2_000, customerRefundedTotal: 0 });
    const repayments = await db.payoutTransfer.findMany({ where: { payoutId: payout.id, kind: "repayment" } });
    expect(repayments).toMatchObject([
      { status: "pending", payoutAmount: 2_000, amount: 2_000, currency: "USD", chargeRefundId: failedStep.id },
    ]);
    const repayment = repayments[0]!;
    expect(await db.outboxEvent.findUnique({ where: { eventId: `repayment:${repayment.id}` } })).toMatchObject({
      name: "payout/repayment.requested",
    });
    // Nothing was reversed twice, nor anything cancelled: the reversal stays made.
    expect(await db.transferReversal.findMany({ where: { payoutId: payout.id } })).toMatchObject([
      { id: reversal!.id, status: "succeeded" },
    ]);

    // The repayment run, twice (Inngest may run it again): one transfer at Stripe.
    const repay = { name: "payout/repayment.requested", data: { repaymentId: repayment.id, payoutId: payout.id } };
    expect((await h.run("repay", repay)).result).toMatchObject({ kind: "repaid", amount: 2_000 });
    expect((await h.run("repay", repay)).result).toMatchObject({ kind: "already_done", status: "succeeded" });
    const repaid = h.fake.transfers().filter((t) => t.metadata?.repaymentOf !== undefined && t.metadata.payoutId === payout.id);
    expect(repaid).toMatchObject([
      { amount: 2_000, currency: "usd", destination: stripeAccountId, metadata: { payoutId: payout.id, repaymentOf: failedStep.id } },
    ]);
    expect(h.transfersFor(payout.id)).toHaveLength(2);
    expect(
      h.fake
        .requests()
        .filter(
          (r) => r.method === "POST" && r.path === "/v1/transfers" && r.params["metadata[repaymentOf]"] === failedStep.id && !r.replayed,
        ),
    ).toHaveLength(1);
    expect(await db.payoutTransfer.findUniqueOrThrow({ where: { id: repayment.id } })).toMatchObject({
      status: "succeeded",
      stripeTransferId: repaid[0]!.id,
    });

    const after = await payoutOf(bookingId);
    expect(after).toMatchObject({ status: "transferred", amount: 8_000, refundedAmount: 0, reversedAmount: 2_000, repaidAmount: 2_000 });

    // A later sweep finds nothing left to repay.
    await h.run("reconcile", null);
    expect(h.transfersFor(payout.id)).toHaveLength(2);

    // Audited, and on the payout's timeline.
    for (const [entityId, action] of [
      [bookingId, "booking.charge_refunded"],
      [payout.id, "payout.reversal_requested"],
      [payout.id, "payout.reversed"],
      [bookingId, "booking.charge_refund_failed"],
      [payout.id, "payout.repayment_requested"],
      [payout.id, "payout.repaid"],
    ] as const) {
      expect(await auditCount(entityId, action), action).toBe(1);
    }
    const detail = (await getPayoutDetail(db, payout.id, admin, { now: h.clock.now() }))!;
    expect(detail.payout).toMatchObject({ status: "transferred", reversedAmount: 2_000, repaidAmount: 2_000, amount: 8_000 });
    expect(detail.transfers).toMatchObject([
      { kind: "payout", status: "succeeded", payoutAmount: 8_000, stripeTransferId: transferId },
      { kind: "repayment", status: "succeeded", payoutAmount: 2_000, amount: 2_000, stripeTransferId: repaid[0]!.id },
    ]);
    expect(detail.reversals).toMatchObject([{ amount: 2_000, status: "succeeded" }]);
    const actions = detail.timeline.filter((i): i is TAuditTimelineItem => i.kind === "audit").map((i) => i.action);
    for (const action of [
      "booking.charge_refunded",
      "payout.reversed",
      "booking.charge_refund_failed",
      "payout.repayment_requested",
      "payout.repaid",
    ]) {
      expect(
        actions.filter((a) => a === action),
        action,
      ).toHaveLength(1);
    }
    const repaidItem = detail.timeline.find((i): i is TAuditTimelineItem => i.kind === "audit" && i.action === "payout.repaid")!;
    expect(repaidItem).toMatchObject({ statusFrom: "partially_reversed", statusTo: "transferred", actor: { type: "system" } });
  });
});
