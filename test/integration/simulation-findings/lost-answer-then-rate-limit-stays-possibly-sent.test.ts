// Found while analysing a simulation failure: Stripe makes a transfer but its answer is lost, and
// the SDK's own retry of the request (same idempotency key) is answered 429. A 429 says only that
// Stripe did not process *that* request; the SDK's first one may well have made the transfer. The
// write gate pauses and sends it again, and the dispute check it runs before every send then found a
// dispute opened meanwhile: the attempt ended "deferred for the dispute" as if nothing had been
// sent, and the payout went on hold with the transfer at Stripe and none recorded. Once the dispute
// changed the amount, the plan was made anew for a transfer that already existed.
//
// Now a transfer request that may have reached Stripe leaves its leg "possibly sent": it is looked
// up before the attempt stops, and if the look-up fails the payout stays processing and the next
// attempt looks again (never failed, never sent anew). The plain case (no dispute: the retries stay
// rate limited until the attempt gives up) was already right and is kept here as proof.
import { beforeEach, describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { openDispute } from "@/lib/disputes/open-dispute";
import { transferPayout } from "@/lib/payouts/transfer-payout";
import { stripeWriteGate, type TStripeWriteGate } from "@/lib/stripe/write-gate";

import { HOUR, payoutOf, transferEvent, engineHarness } from "../../support/engine";

const h = engineHarness();

beforeEach(() => {
  h.fake.clearFaults();
});

async function dueBooking() {
  const { bookingId } = await h.completeBooking({ providerReady: true });
  h.clock.advance(48 * HOUR + 1000);
  return payoutOf(bookingId);
}

/** Stripe makes the transfer and the answer is lost; the SDK's retry (same key) and `more` sends after it are answered 429. */
function loseAnswerThenRateLimit(more: number) {
  h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "drop_response" });
  h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "rate_limit" }, 1 + more);
}

/** The shared write gate, with `onPause` run while it waits to send a rate-limited write again. */
function gateThatRunsDuringPause(onPause: () => Promise<void>): TStripeWriteGate {
  const gate = stripeWriteGate(db, { perSecond: 100, baseBackoffMs: 1 });
  let paused = false;
  return {
    acquire: () => gate.acquire(),
    backoffMs: (retry, failure) => gate.backoffMs(retry, failure),
    sleep: async (ms) => {
      if (!paused) {
        paused = true;
        await onPause();
      }
      await gate.sleep(ms);
    },
  };
}

const transferPosts = (payoutId: string) =>
  h.fake.requests().filter((r) => r.method === "POST" && r.path === "/v1/transfers" && r.params["metadata[payoutId]"] === payoutId);

describe("a transfer whose answer is lost and whose retry is answered 429", () => {
  it("stays possibly sent when the retries stay rate limited: the next attempt finds it, nothing is sent twice (this was already right)", async () => {
    const payout = await dueBooking();
    const runId = "run_lost_then_429";
    // The gate sends a turned-away write 5 more times; all are answered 429 too.
    loseAnswerThenRateLimit(5);
    const first = await h.run("transfer", transferEvent(payout.id), { runId });
    expect(first.error).toBeDefined();
    expect(h.transfersFor(payout.id)).toHaveLength(1);
    // Not counted, not failed, not put back: processing, and the transfer is not recorded yet.
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "processing", stripeTransferId: null, attempts: 0 });

    const retry = await h.run("transfer", transferEvent(payout.id), { runId });
    expect(retry.error).toBeUndefined();
    const [transfer] = h.transfersFor(payout.id);
    expect(h.transfersFor(payout.id)).toHaveLength(1);
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "transferred", stripeTransferId: transfer!.id });
    // The retry looked the transfer up and sent nothing more.
    expect(transferPosts(payout.id)).toHaveLength(1 + 1 + 5);
  });

  it("is looked up, not taken as unsent, when a dispute opens while the retry waits: the transfer Stripe made is recorded", async () => {
    const payout = await dueBooking();
    loseAnswerThenRateLimit(0);
    const ctx = {
      ...h.ctx(),
      runId: "run_lost_429_dispute",
      stripeWrites: gateThatRunsDuringPause(async () => {
        await openDispute(h.ctx(), { bookingId: payout.bookingId, externalId: `dsp_${payout.id}`, openedAt: h.clock.now() });
      }),
    };
    const result = await transferPayout(ctx, h.stripe, { payoutId: payout.id });

    const transfers = h.transfersFor(payout.id);
    expect(transfers).toHaveLength(1);
    // The money moved before the dispute was seen: the payout is transferred (the dispute then
    // follows the transfer, reversing it if lost), not held as if nothing had been sent.
    expect(result).toMatchObject({ kind: "transferred", stripeTransferId: transfers[0]!.id });
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "transferred", stripeTransferId: transfers[0]!.id });
    const legs = await db.payoutTransfer.findMany({ where: { payoutId: payout.id } });
    expect(legs.map((l) => [l.leg, l.amountVersion, l.status, l.stripeTransferId])).toEqual([[1, 1, "succeeded", transfers[0]!.id]]);
  });

  it("when that look-up fails too, the payout stays processing: never held as unsent, never failed, never sent again", async () => {
    const payout = await dueBooking();
    loseAnswerThenRateLimit(0);
    const runId = "run_lost_429_dispute_lookup_fails";
    const ctx = {
      ...h.ctx(),
      runId,
      stripeWrites: gateThatRunsDuringPause(async () => {
        await openDispute(h.ctx(), { bookingId: payout.bookingId, externalId: `dsp_${payout.id}`, openedAt: h.clock.now() });
        h.fake.failNext({ method: "GET", path: "/v1/transfers" }, { kind: "rate_limit" });
      }),
    };
    const first = await transferPayout(ctx, h.stripe, { payoutId: payout.id });
    expect(first).toMatchObject({ kind: "retry" });
    expect(h.transfersFor(payout.id)).toHaveLength(1);
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "processing", stripeTransferId: null });

    // The retry (the dispute still open) looks again before anything else: found, recorded.
    const retry = await h.run("transfer", transferEvent(payout.id), { runId });
    expect(retry.error).toBeUndefined();
    const transfers = h.transfersFor(payout.id);
    expect(transfers).toHaveLength(1);
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "transferred", stripeTransferId: transfers[0]!.id });
    expect(transferPosts(payout.id)).toHaveLength(2);
  });
});
