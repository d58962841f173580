// Found in review, now fixed: idempotency keys must change when Stripe has stored a definite refusal under the old
// one; otherwise the next try (after the cause was fixed: a release, an admin's retry) only replays the stored refusal.
import { randomUUID } from "node:crypto";

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { retryPayout } from "@/lib/payouts/retry-payout";

import { ADMIN_ACTOR, HOUR, payoutOf, startEngineHarness, transferEvent, type TEngineHarness } from "../../support/engine";

let h: TEngineHarness;
let adminId: string;

beforeAll(async () => {
  h = await startEngineHarness();
  const admin = await db.adminUser.create({
    data: { email: "rev-idem@payouts.test", name: "Ada Admin", role: "admin", passwordHash: "x" },
  });
  adminId = admin.id;
});

afterAll(async () => {
  await h.fake.stop();
});

beforeEach(() => {
  h.clock.set(new Date());
});

describe("stored refusals and the next try", () => {
  it("after the provider's account gains the transfers capability, the released payout is paid (not a replay of the stored refusal)", async () => {
    const account = h.account({ transfersCapability: "inactive" });
    const { bookingId } = await h.completeBooking({ providerReady: true, stripeAccountId: account });
    h.clock.advance(48 * HOUR + 1000);
    const payout = await payoutOf(bookingId);

    // Stripe refuses the transfer (destination without the transfers capability) and stores that
    // answer under the key; the payout waits for the account, held.
    const first = await h.run("transfer", transferEvent(payout.id));
    expect(first.result).toMatchObject({ kind: "held_account_not_ready" });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "provider_account_not_ready" });

    // The provider fixes their account at Stripe; no account.updated reaches us, but an hour later
    // the sweep asks Stripe about accounts whose payouts wait, and releases the payout.
    h.account({ id: account, transfersCapability: "active" });
    h.clock.advance(HOUR + 1000);
    await h.run("reconcile", null);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", holdReason: null });
    const again = await h.run("transfer", transferEvent(payout.id));

    const creates = h.fake
      .requests()
      .filter((r) => r.method === "POST" && r.path === "/v1/transfers" && r.params["metadata[payoutId]"] === payout.id);
    // The retry uses a new key (`payout:<id>:v1:r1`): reusing `payout:<id>:v1` would replay the stored 400.
    expect(creates.map((r) => r.replayed)).toEqual([false, false]);
    expect(creates.map((r) => r.idempotencyKey)).toEqual([`payout:${payout.id}:v1`, `payout:${payout.id}:v1:r1`]);
    expect(again.result).toMatchObject({ kind: "transferred" });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred", attempts: 1 });
  });

  it("a failed payout an admin retries after its cause is fixed is paid with a new key (a stored refusal for an unknown destination)", async () => {
    // A destination Stripe does not know: a permanent refusal, failed at once and stored under the key.
    const account = `acct_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
    const { bookingId } = await h.completeBooking({ providerReady: true, stripeAccountId: account });
    h.clock.advance(48 * HOUR + 1000);
    const payout = await payoutOf(bookingId);
    const first = await h.run("transfer", transferEvent(payout.id));
    expect(first.result).toMatchObject({ kind: "failed", attemptNumber: 1 });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "failed" });

    // The account is created at Stripe; an operator retries the payout an hour later.
    h.account({ id: account });
    h.clock.advance(HOUR);
    await retryPayout(h.ctx(ADMIN_ACTOR(adminId)), { payoutId: payout.id, reason: "provider finished connecting their Stripe account" });
    const again = await h.run("transfer", transferEvent(payout.id));

    const creates = h.fake
      .requests()
      .filter((r) => r.method === "POST" && r.path === "/v1/transfers" && r.params["metadata[payoutId]"] === payout.id);
    expect(creates.map((r) => r.replayed)).toEqual([false, false]);
    expect(again.result).toMatchObject({ kind: "transferred" });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred" });
  });
});
