// Found in review, now fixed: idempotency keys must change when Stripe has stored a definite refusal under the old
// one; otherwise the admin's retry (after the cause was fixed) only replays the stored refusal.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { retryPayout } from "@/lib/payouts/retry-payout";

import { ADMIN_ACTOR, HOUR, payoutOf, startEngineHarness, transferEvent, type TEngineHarness } from "../support/engine";

let h: TEngineHarness;
let adminId: string;

beforeAll(async () => {
  h = await startEngineHarness();
  const admin = await db.adminUser.create({ data: { email: "rev-idem@payouts.test", name: "Ada Admin", role: "admin", passwordHash: "x" } });
  adminId = admin.id;
});

afterAll(async () => {
  await h.fake.stop();
});

beforeEach(() => {
  h.clock.set(new Date());
});

describe("stored permanent refusals and the admin retry", () => {
  it("after the provider's account gains the transfers capability, an admin retry pays the payout (not a replay of the stored refusal)", async () => {
    const account = h.account({ transfersCapability: "inactive" });
    const { bookingId } = await h.completeBooking({ stripeAccountId: account });
    h.clock.advance(48 * HOUR + 1000);
    const payout = await payoutOf(bookingId);

    // Stripe refuses the transfer (destination without the transfers capability) and stores that answer under the key.
    const first = await h.run("transfer", transferEvent(payout.id));
    expect(first.result).toMatchObject({ kind: "failed", attemptNumber: 1 });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "failed" });

    // The provider fixes their account at Stripe; an operator retries the payout an hour later.
    h.account({ id: account, transfersCapability: "active" });
    h.clock.advance(HOUR);
    await retryPayout(h.ctx(ADMIN_ACTOR(adminId)), { payoutId: payout.id, reason: "provider fixed their Stripe account" });
    const again = await h.run("transfer", transferEvent(payout.id));

    const creates = h.fake.requests().filter((r) => r.method === "POST" && r.path === "/v1/transfers" && r.params["metadata[payoutId]"] === payout.id);
    // Fails today: the retry reuses `payout:<id>:v1`, Stripe replays the stored 400, and the payout is failed again.
    expect(creates.map((r) => r.replayed)).toEqual([false, false]);
    expect(again.result).toMatchObject({ kind: "transferred" });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred" });
  });
});
