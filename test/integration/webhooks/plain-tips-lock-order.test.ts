// Issue 13, from the review of 46296a2: recordPlainTips locked all of a batch's bookings in one
// statement (ORDER BY id FOR UPDATE), waiting for some while holding the others. The engine has writers that lock several
// bookings of one provider in another order, one at a time, in one transaction:
// updateProviderAccount / recordAccountState (payouts in createdAt order: lockBooking each), and
// transfer-outcome → recordRefusedAccount (its own booking first, then the provider's others).
// With two bookings of one provider tipped in the same batch, the two wait for each other.
import { randomUUID } from "node:crypto";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { applyInOrder, laneKeyOf } from "@/lib/ingest/apply-in-order";
import { lockBooking } from "@/lib/payouts/lock-booking";
import { BOOKING_PLATFORM_ACTOR } from "@/lib/webhooks/apply-booking-delivery";
import { parseBookingWebhook } from "@/lib/webhooks/booking-webhook-schema";
import { recordPlainTips, type TTipDelivery } from "@/lib/webhooks/record-plain-tips";
import type { TWebhookDeps } from "@/lib/webhooks/types";
import { bookingCompletedEvent, storeBookingEvent, type TBookingEvent, tipCreatedEvent } from "@/test/support/booking-webhook";
import { startEngineHarness, type TEngineHarness } from "@/test/support/engine";

let h: TEngineHarness;
let deps: TWebhookDeps;

beforeAll(async () => {
  h = await startEngineHarness();
  deps = { db, stripe: () => h.stripe };
});
afterAll(async () => {
  await h.fake.stop();
});

/** Stores a delivery as the route does, without applying it. */
const store = (event: TBookingEvent) => storeBookingEvent(event, deps);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("recordPlainTips and the engine's multi-booking writers", () => {
  it("two tips on two bookings of one provider do not deadlock with a writer that locks that provider's bookings in another order", async () => {
    const ns = `d${randomUUID().slice(0, 6)}X`;
    const completedAt = new Date(Date.now() - 60 * 60 * 1000);
    for (const n of ["a", "b"]) {
      const delivery = await store(
        bookingCompletedEvent({ bookingId: `${ns}bk_${n}`, providerId: `${ns}prov`, stripeAccountId: `acct_${ns}`, completedAt }),
      );
      await applyInOrder(deps, laneKeyOf(delivery));
    }
    const bookings = await db.booking.findMany({ where: { externalId: { startsWith: ns } }, orderBy: { id: "asc" } });
    expect(bookings).toHaveLength(2);
    const [lo, hi] = bookings as [(typeof bookings)[0], (typeof bookings)[0]];
    expect((await db.payout.findMany({ where: { bookingId: { in: [lo.id, hi.id] } } })).map((p) => p.status)).toEqual([
      "scheduled",
      "scheduled",
    ]);

    const tips: TTipDelivery[] = [];
    for (const b of [lo, hi]) {
      const delivery = await store(tipCreatedEvent({ bookingId: b.externalId, amount: 500, tippedAt: new Date() }));
      tips.push({ delivery, event: parseBookingWebhook(delivery.payload) as TTipDelivery["event"] });
    }

    // The other writer: the provider's booking `hi` first (its own, or its payout created first), then `lo`.
    let locked!: () => void;
    const hiLocked = new Promise<void>((r) => (locked = r));
    const writer = db.$transaction(
      async (tx) => {
        await lockBooking(tx, hi.id);
        locked();
        await sleep(500); // the batch has locked `lo` and waits for `hi`
        await lockBooking(tx, lo.id);
      },
      { maxWait: 10_000, timeout: 15_000 },
    );
    await hiLocked;
    const batch = recordPlainTips({ db, actor: BOOKING_PLATFORM_ACTOR, requestId: null }, tips);
    const [w, b] = await Promise.allSettled([writer, batch]);
    const errors = [w, b].flatMap((r) => (r.status === "rejected" ? [String((r.reason as Error)?.message ?? r.reason)] : []));
    // Failed on 46296a2: one of the two was aborted with "deadlock detected" (40P01). Now the batch
    // skips the booking the writer holds and leaves its tip to addTip, which waits its turn.
    expect(errors).toEqual([]);
    expect(b.status === "fulfilled" && b.value.applied).toEqual([tips[0]!.delivery.id]);
    expect(b.status === "fulfilled" && b.value.left.map((t) => t.delivery.id)).toEqual([tips[1]!.delivery.id]);
    await applyInOrder(deps, laneKeyOf(tips[1]!.delivery));
    expect((await db.payout.findMany({ where: { bookingId: { in: [lo.id, hi.id] } } })).map((p) => p.tipAmount)).toEqual([500, 500]);
    expect(await db.webhookEvent.count({ where: { id: { in: tips.map((t) => t.delivery.id) }, status: "processed" } })).toBe(2);
  });
});
