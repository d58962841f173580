// What the transfer step does outside any transaction, taken together when runs of one process do
// it at the same moment (lib/coalesce.ts): the attempt's facts read for several payouts in one
// statement, and the charges Stripe described stored in one. Each caller gets what it would have
// got alone.
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { learnCharges, storeChargeFunding } from "@/lib/charges/charge-funding";
import { db } from "@/lib/db";
import { readAttemptFacts, readAttemptFactsTogether } from "@/lib/payouts/attempt-facts";
import { retrieveChargeFunding } from "@/lib/stripe/charges";

import { engineHarness, payoutOf } from "../../support/engine";

const h = engineHarness();

describe("readAttemptFactsTogether", () => {
  it("callers at once each get what readAttemptFacts reads for their payout; a payout that does not exist, null", async () => {
    const payouts = [];
    for (let i = 0; i < 6; i++) {
      const charge = h.fake.createCharge({ amount: 9_000 + i, currency: "usd" });
      const { bookingId } = await h.completeBooking({ providerReady: i % 2 === 0, providerShare: 7_000 + i, stripeChargeId: charge.id });
      payouts.push(await payoutOf(bookingId));
    }
    const ids = [...payouts.map((p) => p.id), randomUUID()];
    const together = await Promise.all(ids.map((id) => readAttemptFactsTogether(db, id)));
    const alone = await Promise.all(ids.map((id) => readAttemptFacts(db, id)));
    expect(together).toEqual(alone);
    expect(together.at(-1)).toBeNull();
    expect(together[0]).toMatchObject({ status: "scheduled", payoutsEnabled: true, tips: [], staleLegs: false });
  });

  it("an id that is no uuid fails its own caller only", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    const payout = await payoutOf(bookingId);
    const [bad, good] = await Promise.allSettled([
      readAttemptFactsTogether(db, "not-a-uuid"),
      readAttemptFactsTogether(db, payout.id),
      readAttemptFactsTogether(db, payout.id),
    ]);
    expect(bad.status).toBe("rejected");
    expect(good).toMatchObject({ status: "fulfilled", value: { status: "scheduled" } });
  });
});

describe("learnCharges of runs at once: the charges stored together", () => {
  it("each charge stored as storeChargeFunding stores it alone, in one statement for the callers that waited", async () => {
    const charges = Array.from({ length: 5 }, (_, i) =>
      h.fake.createCharge({
        amount: 10_000 + i,
        currency: i % 2 ? "eur" : "usd",
        fee: 30 + i,
        availableOn: new Date(Date.UTC(2027, 0, i + 1)),
      }),
    );
    const now = new Date("2026-12-05T12:00:00.000Z");
    const learnt = await Promise.all(charges.map((c) => learnCharges(db, h.stripe, [c.id], now, [])));
    expect(learnt.map((m) => [...m.values()])).toEqual(charges.map(() => [{ kind: "known" }]));
    const stored = await db.stripeCharge.findMany({ where: { id: { in: charges.map((c) => c.id) } }, orderBy: { amount: "asc" } });

    // The oracle: the same answers stored alone, by the ORM, under other ids.
    const oracle = [];
    for (const c of charges) {
      const funding = await retrieveChargeFunding(h.stripe, c.id);
      const id = `ch_oracle_${randomUUID().slice(0, 8)}`;
      await storeChargeFunding(db, { ...funding, id }, now);
      oracle.push({ ...(await db.stripeCharge.findUniqueOrThrow({ where: { id } })), id: c.id });
    }
    expect(stored).toEqual(oracle);
  });

  it("one charge learnt by two runs at once: stored once, one of the answers kept, no error", async () => {
    const charge = h.fake.createCharge({ amount: 4_200, currency: "usd" });
    const earlier = new Date("2026-12-05T12:00:00.000Z");
    const later = new Date("2026-12-05T12:00:01.000Z");
    const blocker = h.fake.createCharge({ amount: 100, currency: "usd" });
    // Two flushes in flight: the two calls of the same charge wait and go together.
    const inFlight = [learnCharges(db, h.stripe, [blocker.id], earlier, []), learnCharges(db, h.stripe, [blocker.id], earlier, [])];
    const both = await Promise.all([
      learnCharges(db, h.stripe, [charge.id], earlier, []),
      learnCharges(db, h.stripe, [charge.id], later, []),
    ]);
    await Promise.all(inFlight);
    expect(both.map((m) => m.get(charge.id))).toEqual([{ kind: "known" }, { kind: "known" }]);
    const rows = await db.stripeCharge.findMany({ where: { id: charge.id } });
    expect(rows).toHaveLength(1);
    expect([earlier.getTime(), later.getTime()]).toContain(rows[0]!.fetchedAt.getTime());
  });
});
