// Found in review, now fixed: the third attempt's outcome is unknown (Stripe made the transfer, the answer was lost),
// yet the payout is marked `failed` without looking the transfer up. `failed` is cancellable and
// adjustable, so the record can end up cancelled, or "transferred" with another amount than Stripe's.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { cancelPayout } from "@/lib/payouts/cancel-payout";
import { applyChargeRefund } from "@/lib/refunds/apply-charge-refund";

import { ADMIN_ACTOR, HOUR, payoutOf, startEngineHarness, transferEvent, type TEngineHarness } from "../../support/engine";

let h: TEngineHarness;
let adminId: string;

beforeAll(async () => {
  h = await startEngineHarness();
  const admin = await db.adminUser.create({
    data: { email: "rev-unknown@payouts.test", name: "Ada Admin", role: "admin", passwordHash: "x" },
  });
  adminId = admin.id;
});

afterAll(async () => {
  await h.fake.stop();
});

beforeEach(() => {
  h.clock.set(new Date());
});

/** Two 500s, then a third attempt that Stripe executes but whose answer is lost. */
async function failWithUnknownThirdAttempt(chargeId?: string) {
  const { bookingId } = await h.completeBooking({ providerReady: true, ...(chargeId ? { stripeChargeId: chargeId } : {}) });
  h.clock.advance(48 * HOUR + 1000);
  const payout = await payoutOf(bookingId);
  h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "status", status: 500 }, 2);
  const runId = `run_unknown_${bookingId}`;
  await h.run("transfer", transferEvent(payout.id), { runId });
  await h.run("transfer", transferEvent(payout.id), { runId });
  // The SDK retries a dropped connection once with the same key: drop both answers.
  h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "drop_response" }, 2);
  const third = await h.run("transfer", transferEvent(payout.id), { runId });
  expect(h.transfersFor(payout.id)).toHaveLength(1);
  return { bookingId, payout, third };
}

describe("an unknown outcome on the last attempt", () => {
  it("is not recorded as a failed payout that an admin can then cancel while its transfer exists at Stripe", async () => {
    const { bookingId, payout, third } = await failWithUnknownThirdAttempt();
    // The last attempt's lost answer is looked up at once: transferred, so a cancel is refused.
    const afterThird = await payoutOf(bookingId);
    const cancel = cancelPayout(h.ctx(ADMIN_ACTOR(adminId)), { payoutId: payout.id, reason: "failed 3 times, paying by hand" }).then(
      () => "cancelled",
      (e: unknown) => `refused: ${String(e)}`,
    );
    const outcome = await cancel;
    const final = await payoutOf(bookingId);
    // One transfer exists at Stripe for this payout; our record must not say it was cancelled (nor failed).
    expect({ third: third.result, afterThird: afterThird.status, cancel: outcome, final: final.status }).toMatchObject({
      final: "transferred",
    });
    expect(final.stripeTransferId).toBe(h.transfersFor(payout.id)[0]!.id);
  });

  it("a transfer found for an earlier amount is recorded as that amount's, never repeated, and raised for a human", async () => {
    const chargeId = `ch_review_${Date.now().toString(36)}`;
    const { bookingId } = await h.completeBooking({ providerReady: true, stripeChargeId: chargeId });
    h.clock.advance(48 * HOUR + 1000);
    const payout = await payoutOf(bookingId);
    const booking = await db.booking.findUniqueOrThrow({ where: { id: bookingId } });

    // Attempt 1 gets a 500 and Stripe's list shows nothing yet; an hour later the sweep puts it back.
    h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "status", status: 500 });
    await h.run("transfer", transferEvent(payout.id), { runId: "run_lagging" });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "processing", attempts: 1 });
    h.clock.advance(HOUR + 60_000);
    await h.run("reconcile", null);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", amount: 8_000 });

    // A refund lowers the payout to 4,000; then the 8,000 transfer of attempt 1 shows up at Stripe.
    await applyChargeRefund(h.ctx(), {
      stripeChargeId: chargeId,
      currency: "usd",
      chargeAmount: 10_000,
      refundedTotal: 5_000,
      refundedAt: h.clock.now(),
    });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", amount: 4_000 });
    const late = await h.stripe.transfers.create({
      amount: 8_000,
      currency: "usd",
      destination: (await db.provider.findUniqueOrThrow({ where: { id: payout.providerId } })).stripeAccountId!,
      transfer_group: `booking_${booking.externalId}`,
      metadata: { payoutId: payout.id, amountVersion: "1" },
    });

    await h.run("transfer", transferEvent(payout.id));
    const after = await payoutOf(bookingId);
    expect(h.transfersFor(payout.id)).toHaveLength(1);
    // Recorded as what it was (version 1's leg, 8,000), not as the 4,000 payout's transfer
    // (simulation-findings/amount-change-looks-up-replaced-leg.test.ts): $80.00 was paid for a
    // payout that owes $40.00, so it is held for a person to recover the difference.
    const legs = await db.payoutTransfer.findMany({ where: { payoutId: payout.id } });
    expect(legs.map((l) => [l.amountVersion, l.leg, l.amount, l.status, l.stripeTransferId])).toEqual([
      [1, 1, 8_000, "succeeded", late.id],
    ]);
    expect(after).toMatchObject({ status: "on_hold", holdReason: "review_required", amount: 4_000 });
    const alerts = await db.alert.findMany({ where: { payoutId: payout.id, kind: "payout_transfer_review" } });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.message).toMatch(
      /\(\$40\.00\) is held: \$80\.00 was already transferred, more than the \$40\.00 the payout now owes/,
    );
  });
});
