// Review of b3e2013 (outbox scope: each writer sends its own events; no "publish-events" step in
// transfer-payout, schedule-payout, follow-up-payout). What a writer outside any scope leaves
// unsent, how scopes nest and interleave, and what a claim by another publisher does to a scope.
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { withAfterCommitEffects } from "@/lib/after-commit/with-after-commit-effects";
import { db } from "@/lib/db";
import { redriveDelivery } from "@/lib/ingest/redrive-delivery";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";
import { storeStripeEvent } from "@/lib/stripe-webhooks/store-stripe-event";

import { ADMIN_ACTOR, HOUR, payoutOf, transferEvent } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { appEngineHarness } from "../../support/stripe-webhook";

const h = appEngineHarness();

const received = (eventId: string) => globalThis.inngestReceiver.events().filter((e) => e.id === eventId);
const outboxRow = (eventId: string) => db.outboxEvent.findUniqueOrThrow({ where: { eventId } });

function testEvent(eventId: string) {
  return { name: "payout/transfer.requested" as const, eventId, data: { payoutId: randomUUID(), reason: "review" } };
}

async function write(eventId: string): Promise<void> {
  await db.$transaction((tx) => enqueueEvent(tx, testEvent(eventId)));
}

describe("a writer outside any scope: an operator's re-drive of a Stripe refund after the transfer", () => {
  // Before b3e2013 the follow-up-payout run that the delivery's own event (charge/refunded) starts
  // ended with publish-events, which sent the reversal request the apply wrote beside it. The
  // re-drive route (adminRoute, no publishAfter, no withAfterCommitEffects) sends only the
  // delivery's own event (processDelivery -> publishDeliveryEvents), and refreshPayout in the
  // follow-up writes no new event: the reversal request now waits for the 15-minute sweep.
  it("the reversal request is sent by the re-drive or, at the latest, by the follow-up run it starts", async () => {
    h.clock.set(new Date());
    const charge = h.fake.createCharge({ amount: 10_000, currency: "usd" });
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: charge.id });
    h.clock.advance(48 * HOUR + 1);
    const payout = await payoutOf(bookingId);
    expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });

    // Stripe's charge.refunded was stored, and the process died before applying it (left `received`).
    h.fake.refundCharge(charge.id);
    const event = stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) });
    const deps = { db, stripe: () => h.stripe, clock: h.clock };
    const { delivery } = await storeStripeEvent(deps, event);
    expect(delivery.status).toBe("received");
    h.clock.advance(10 * 60_000); // stale: the re-drive may apply it in its lane

    const operator = await db.adminUser.create({
      data: { email: `op-${randomUUID().slice(0, 8)}@payouts.test`, name: "Oscar Operator", role: "operator", passwordHash: "x" },
    });
    const redriven = await redriveDelivery(deps, { id: delivery.id, actor: ADMIN_ACTOR(operator.id, "Oscar Operator") });
    expect(redriven.outcome).toMatchObject({ status: "processed" });

    const [reversal] = await db.transferReversal.findMany({ where: { payoutId: payout.id } });
    expect(reversal).toMatchObject({ status: "pending", initiatedBy: "platform" });
    const reversalEventId = `reversal:${reversal!.id}`;
    // The delivery's own event went out at once.
    const [refunded] = received(delivery.id);
    expect(refunded).toMatchObject({ name: "charge/refunded" });

    // Inngest runs follow-up-payout for it (what used to drain the outbox at its end).
    const { error } = await h.run("followUp", { name: refunded!.name, data: refunded!.data });
    expect(error).toBeUndefined();

    // Failed on b3e2013 (sentAt null, attempts 0, nothing received: only reconcile-payouts sent it);
    // the re-drive now sends what its apply wrote (withOutboxPublishing in redriveDelivery).
    expect((await outboxRow(reversalEventId)).sentAt).not.toBeNull();
    expect(received(reversalEventId)).toHaveLength(1);
  });
});

describe("scopes nest and interleave without taking each other's events", () => {
  it("a scope started inside another (the batcher's pump run from a caller's context) sends its own; the outer sends its own after its work", async () => {
    const outerId = `review-outer:${randomUUID()}`;
    const innerId = `review-inner:${randomUUID()}`;
    let outerSeenByInnerEnd: Date | null | undefined;
    await withAfterCommitEffects(db, async () => {
      await write(outerId);
      await withAfterCommitEffects(db, async () => {
        await write(innerId);
      });
      // The inner scope sent its event, and left the outer's alone.
      expect((await outboxRow(innerId)).sentAt).not.toBeNull();
      outerSeenByInnerEnd = (await outboxRow(outerId)).sentAt;
    });
    expect(outerSeenByInnerEnd).toBeNull();
    expect((await outboxRow(outerId)).sentAt).not.toBeNull();
    expect(received(outerId)).toHaveLength(1);
    expect(received(innerId)).toHaveLength(1);
  });

  it("two scopes running at once: each sends only its own, only once its own work is done, each event once", async () => {
    const a = [`review-a1:${randomUUID()}`, `review-a2:${randomUUID()}`];
    const b = [`review-b1:${randomUUID()}`, `review-b2:${randomUUID()}`];
    let releaseA!: () => void;
    const aMayFinish = new Promise<void>((resolve) => (releaseA = resolve));
    const runA = withAfterCommitEffects(db, async () => {
      await write(a[0]!);
      await aMayFinish;
      await write(a[1]!);
    });
    const runB = withAfterCommitEffects(db, async () => {
      await write(b[0]!);
      await write(b[1]!);
    });
    await runB;
    // B is done and sent its events; A's first event (committed) is still A's to send.
    for (const id of b) expect(received(id)).toHaveLength(1);
    expect((await outboxRow(a[0]!)).sentAt).toBeNull();
    releaseA();
    await runA;
    for (const id of [...a, ...b]) expect(received(id)).toHaveLength(1);
  });
});

describe("an event another publisher holds a claim on", () => {
  // Documents the design: the scope counts it as tried (noteOutboxTried: "being sent by another
  // publisher"). If that publisher died or its send failed, nothing in the process tries it again:
  // it waits for the claim to run out and the reconciliation sweep (no engine drain any more).
  it("is not sent by the scope that wrote it, and waits with no error for the sweep", async () => {
    const eventId = `review-claimed:${randomUUID()}`;
    await withAfterCommitEffects(db, async () => {
      await write(eventId);
      // Another publisher claims it now (and dies before sending).
      await db.$executeRaw`UPDATE "OutboxEvent" SET "claimedUntil" = clock_timestamp() + interval '30 seconds' WHERE "eventId" = ${eventId}`;
    });
    const row = await outboxRow(eventId);
    expect(row).toMatchObject({ sentAt: null, attempts: 0, lastError: null });
    expect(received(eventId)).toEqual([]);
  });
});
