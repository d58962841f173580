// Seed 22700 (I1, money at the provider with no one told): a booking's share (500) was transferred
// from its charge and its tip (1300, no charge: paid from the balance) waited for funds, on hold.
// A chargeback opened meanwhile. Once the balance was back the sweep released the payout, the
// claim found the open dispute and held it for it: partly paid, on hold, no critical alert. That is
// the engine's rule for a dispute opened between a payout's transfers (dispute-between-legs.test.ts):
// what is left waits for the dispute's outcome, as a payout not yet paid would, and no more than
// the rules owe is at the provider. The oracle demanded an alert for any partly paid payout not
// transferred; it now accepts one held for an open dispute of its booking (test/sim/invariants.ts).
// Checked here: nothing more is sent while the dispute is open, and the rest is paid once after it.
import { expect, it } from "vitest";

import { db } from "@/lib/db";
import { openDispute } from "@/lib/disputes/open-dispute";
import { resolveDispute } from "@/lib/disputes/resolve-dispute";
import { addTip } from "@/lib/tips/add-tip";

import { HOUR, payoutOf, transferEvent } from "../../support/engine";
import { appEngineHarness } from "../../support/stripe-webhook";

const h = appEngineHarness();
const DAY = 24 * HOUR;

const secondsFromNow = (ms: number) => new Date(Math.floor((h.clock.now().getTime() + ms) / 1000) * 1000);

it("a partly paid payout waiting for funds when a dispute opens waits for the dispute, then is paid the rest once", async () => {
  h.fake.setBalance("usd", 0);
  const charge = h.fake.createCharge({ amount: 500, currency: "usd", availableOn: secondsFromNow(HOUR) });
  const { bookingId } = await h.completeBooking({ providerReady: true, stripeChargeId: charge.id, providerShare: 500 });
  const tippedAt = new Date(h.clock.now().getTime() + 5 * HOUR);
  await addTip(h.ctx(), { tipExternalId: `tip_${bookingId}`, bookingId, amount: 1_300, currency: "USD", tippedAt, receivedAt: tippedAt });
  h.clock.advance(48 * HOUR + 1_000);
  const payout = await payoutOf(bookingId);
  expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "waiting_for_funds" });
  expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([500]);

  const { dispute } = await openDispute(h.ctx(), { bookingId, externalId: `dsp_${bookingId}`, openedAt: h.clock.now() });

  // The balance comes back; days pass with the sweep and transfer requests: held for the dispute, nothing more sent.
  h.fake.setBalance("usd", 1_000_000_000);
  for (let day = 0; day < 3; day++) {
    h.clock.advance(DAY);
    await h.run("reconcile", null);
    await h.run("transfer", transferEvent(payout.id));
  }
  expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "dispute_open", amount: 1_800 });
  expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([500]);

  // The provider wins: released, and the tip's 1300 is transferred once.
  await resolveDispute(h.ctx(), { disputeId: dispute.id, outcome: "provider_won", refundedAmount: 0, resolvedAt: h.clock.now() });
  const run = await h.run("transfer", transferEvent(payout.id));
  expect(run.result).toMatchObject({ kind: "transferred" });
  await h.run("transfer", transferEvent(payout.id));
  expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([500, 1_300]);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred", amount: 1_800 });
  expect(await db.alert.count({ where: { payoutId: payout.id, acknowledgedAt: null, severity: "critical" } })).toBe(0);
});
