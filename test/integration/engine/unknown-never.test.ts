// Review: Stripe answered a transfer with a 5xx and `Stripe-Should-Retry: false` (its verdict: do not
// send it again), yet the transfer may have been made. The look-up that would tell failed too, and
// the payout was marked `failed`: an admin could then cancel it while Stripe holds its transfer.
import Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { cancelPayout } from "@/lib/payouts/cancel-payout";
import { transferPayout } from "@/lib/payouts/transfer-payout";

import { ADMIN_ACTOR, HOUR, payoutOf, startEngineHarness, type TEngineHarness } from "../../support/engine";

let h: TEngineHarness;
let adminId: string;

beforeAll(async () => {
  h = await startEngineHarness();
  adminId = (await db.adminUser.create({ data: { email: "never@payouts.test", name: "Nina Never", role: "admin", passwordHash: "x" } })).id;
});

afterAll(async () => {
  await h.fake.stop();
});

beforeEach(() => {
  h.clock.set(new Date());
});

/** The real client, except that a created transfer is answered with a 500 Stripe says not to retry. */
function clientMakingTransfersAnswered500(): Stripe {
  const real = h.stripe;
  const transfers = Object.create(real.transfers, {
    create: {
      value: async (...args: Parameters<Stripe["transfers"]["create"]>) => {
        await real.transfers.create(...args);
        throw new Stripe.errors.StripeAPIError({
          type: "api_error",
          message: "An unknown error occurred while processing your request.",
          statusCode: 500,
          headers: { "stripe-should-retry": "false" },
        });
      },
    },
  }) as Stripe["transfers"];
  return new Proxy(real, { get: (target, key) => (key === "transfers" ? transfers : Reflect.get(target, key)) });
}

describe("a 5xx with Stripe-Should-Retry: false whose look-up fails", () => {
  it("leaves the payout processing for the sweep, never failed and cancellable while Stripe holds the transfer", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000 });
    h.clock.advance(48 * HOUR + 1000);
    const payout = await payoutOf(bookingId);

    // The look-up right after the 500 cannot reach Stripe either.
    h.fake.failNext({ method: "GET", path: "/v1/transfers" }, { kind: "status", status: 503 });
    const result = await transferPayout({ ...h.ctx(), runId: "run_500_never" }, clientMakingTransfersAnswered500(), {
      payoutId: payout.id,
    });
    expect(h.transfersFor(payout.id)).toHaveLength(1);
    expect(result.kind).not.toBe("failed");
    expect(await payoutOf(bookingId)).toMatchObject({ status: "processing" });

    // An admin cannot cancel it; the sweep finds the transfer and records it.
    await expect(cancelPayout(h.ctx(ADMIN_ACTOR(adminId)), { payoutId: payout.id, reason: "Stripe said it failed" })).rejects.toThrow();
    h.clock.advance(HOUR + 60_000);
    await h.run("reconcile", null);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred", stripeTransferId: h.transfersFor(payout.id)[0]!.id });
    expect(h.transfersFor(payout.id)).toHaveLength(1);
  });
});
