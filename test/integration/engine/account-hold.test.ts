// Found in review, now fixed: before claiming, the engine asks Stripe whether an account we record as "not ready" is
// ready after all. When that look-up fails (Stripe 5xx / timeout), the claim holds the payout for
// `provider_account_not_ready` anyway. Nothing ever asks again: the sweep skips on_hold payouts,
// Stripe sends account.updated only on a change, and release / force release refuse while our
// record says "not ready". A transient Stripe error parks a payable payout forever.
import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";

import { HOUR, payoutOf, transferEvent, engineHarness } from "../../support/engine";

const h = engineHarness();

describe("a failed account look-up before the claim", () => {
  it("does not leave a payout to a ready account held with no way out", async () => {
    const account = h.account(); // ready at Stripe all along
    const { bookingId } = await h.completeBooking({ providerReady: true, stripeAccountId: account });
    // As for any provider we never got an account.updated for: recorded as not ready.
    await db.provider.updateMany({ where: { stripeAccountId: account }, data: { payoutsEnabled: false } });
    h.clock.advance(48 * HOUR + 1000);
    const payout = await payoutOf(bookingId);

    // Stripe blips once on the readiness look-up: the payout is not held on our stale record.
    h.fake.failNext({ method: "GET", path: `/v1/accounts/${account}` }, { kind: "status", status: 500 });
    const first = await h.run("transfer", transferEvent(payout.id));
    expect(first.result).toMatchObject({ kind: "skipped", reason: "account_unconfirmed", status: "scheduled" });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", holdReason: null });

    // Stripe is fine again: the next reconcile sweep requests the transfer, which asks Stripe and pays.
    h.clock.advance(15 * 60 * 1000);
    await h.run("reconcile", null);
    await h.run("transfer", transferEvent(payout.id));
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred" });
    expect(await db.provider.findFirstOrThrow({ where: { stripeAccountId: account } })).toMatchObject({ payoutsEnabled: true });
  });
});
