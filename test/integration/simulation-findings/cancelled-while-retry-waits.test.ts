// From the first random exploration (issue 10), still there: a booking cancelled while its transfer
// waits for a retry was paid. Attempt 1 failed with a 5xx (the payout stays processing, waiting for
// Inngest's retry); the cancellation was refused as "payout busy", so the booking never learned it,
// and the retry's re-check of eligibility saw a booking still to pay. The cancellation is now
// recorded on the booking at once: the retry stops, nothing is transferred, the payout is cancelled.
import { randomUUID } from "node:crypto";

import { afterAll, beforeAll, expect, it } from "vitest";

import { db } from "@/lib/db";
import { reapplyStaleDeliveries } from "@/lib/ingest/reapply-stale-deliveries";

import { sendBookingEvent } from "../../support/booking-webhook";
import { HOUR, payoutOf, startEngineHarness, transferEvent, type TEngineHarness } from "../../support/engine";

let h: TEngineHarness;
beforeAll(async () => {
  h = await startEngineHarness();
});
afterAll(async () => {
  await h.fake.stop();
});

it("a booking cancelled while the transfer waits for its retry is never paid, and ends cancelled", async () => {
  const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000 });
  const booking = await db.booking.findUniqueOrThrow({ where: { id: bookingId } });
  h.clock.advance(48 * HOUR + 1_000);
  const payout = await payoutOf(bookingId);

  h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "status", status: 500 });
  // A 5xx: Stripe may have acted; here it did not (the fake answers without processing).
  const runId = `run_${randomUUID()}`;
  const first = await h.run("transfer", transferEvent(payout.id), { runId });
  expect(first.error).toBeDefined();
  expect(await payoutOf(bookingId)).toMatchObject({ status: "processing" });

  const cancelled = {
    id: `evt_${randomUUID()}`,
    type: "booking.cancelled",
    createdAt: new Date().toISOString(),
    data: { bookingId: booking.externalId, cancelledAt: new Date().toISOString(), reason: "customer cancelled" },
  };
  expect((await sendBookingEvent(cancelled)).status).toBe(200);
  expect(await db.webhookEvent.findFirstOrThrow({ where: { externalId: cancelled.id } })).toMatchObject({ status: "processed" });
  expect(await db.booking.findUniqueOrThrow({ where: { id: bookingId } })).toMatchObject({ cancellationReason: "customer cancelled" });

  // Inngest's retry of the same run: it stops, and the payout follows the booking.
  await h.run("transfer", transferEvent(payout.id), { runId });
  expect(h.transfersFor(payout.id)).toEqual([]);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "cancelled", cancelReason: "booking cancelled" });

  // Nothing else sends it later.
  h.clock.advance(HOUR);
  await reapplyStaleDeliveries({ db, stripe: () => h.stripe, clock: h.clock });
  await h.run("transfer", transferEvent(payout.id));
  expect(h.transfersFor(payout.id)).toEqual([]);
});
