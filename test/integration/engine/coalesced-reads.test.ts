// What the transfer step does outside any transaction, taken together when runs of one process do
// it at the same moment (lib/coalesce.ts): the attempt's facts read for several payouts in one
// statement, and the charges Stripe described stored in one. Each caller gets what it would have
// got alone.
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { learnCharges, storeChargeFunding } from "@/lib/charges/charge-funding";
import { db } from "@/lib/db";
import { readAttemptFacts, readAttemptFactsTogether } from "@/lib/payouts/attempt-facts";
import { readClaimFacts, readClaimFactsTogether } from "@/lib/payouts/transfer-execute";
import { retrieveChargeFunding } from "@/lib/stripe/charges";

import { engineHarness, payoutOf } from "../../support/engine";
import { createPayout, createPayoutTransfer, createTransferAttempt } from "../../support/factories";

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

describe("readClaimFactsTogether (what a send reads right before it goes out)", () => {
  it("sends at once each get what readClaimFacts reads for their leg alone, whatever state it is in", async () => {
    const refs: { payoutId: string; legId: string }[] = [];
    // processing, its own attempt the latest, the leg pending
    const a = await createPayout({ status: "processing", processingStartedAt: new Date(), attempts: 1 });
    await createTransferAttempt(a, 1);
    refs.push({ payoutId: a.id, legId: (await createPayoutTransfer(a, 1)).id });
    // two attempts (the latest is the second), two legs: one made, one pending
    const b = await createPayout({ status: "processing", processingStartedAt: new Date(), attempts: 2 });
    await createTransferAttempt(b, 1, { status: "failed" });
    await createTransferAttempt(b, 2);
    refs.push({
      payoutId: b.id,
      legId: (await createPayoutTransfer(b, 1, { status: "succeeded", stripeTransferId: `tr_${randomUUID()}` })).id,
    });
    refs.push({ payoutId: b.id, legId: (await createPayoutTransfer(b, 2)).id });
    // a dispute opened on the booking of a scheduled payout with no attempt
    const c = await createPayout();
    await db.dispute.create({
      data: {
        bookingId: c.bookingId,
        stripeDisputeId: `dp_${randomUUID()}`,
        currency: "USD",
        reason: "fraudulent",
        status: "open",
        openedAt: new Date(),
      },
    });
    refs.push({ payoutId: c.id, legId: (await createPayoutTransfer(c, 1)).id });
    // a leg of another payout; a leg that does not exist; a payout that does not exist; the same leg twice
    refs.push({ payoutId: c.id, legId: refs[0]!.legId });
    refs.push({ payoutId: a.id, legId: randomUUID() });
    refs.push({ payoutId: randomUUID(), legId: refs[0]!.legId });
    refs.push(refs[2]!);

    const together = await Promise.all(refs.map((ref) => readClaimFactsTogether(db, ref)));
    const alone = [];
    for (const ref of refs) alone.push((await readClaimFacts(db, [ref]))[0]);
    expect(together).toEqual(alone);
    expect(together[0]).toMatchObject({
      status: "processing",
      latestNumber: 1,
      legStatus: "pending",
      legTransferId: null,
      openDisputes: 0,
    });
    expect(together[1]).toMatchObject({ latestNumber: 2, legStatus: "succeeded" });
    expect(together[3]).toMatchObject({ status: "scheduled", latestId: null, openDisputes: 1, legStatus: "pending" });
    expect(together[4]).toMatchObject({ legStatus: null });
    expect(together[5]).toMatchObject({ status: "processing", legStatus: null });
    expect(together[6]).toBeUndefined();
  });

  it("ids that are not uuids fail their own caller only", async () => {
    const p = await createPayout({ status: "processing", processingStartedAt: new Date() });
    const legId = (await createPayoutTransfer(p, 1)).id;
    const [bad, good] = await Promise.allSettled([
      readClaimFactsTogether(db, { payoutId: "not-a-uuid", legId }),
      readClaimFactsTogether(db, { payoutId: p.id, legId }),
      readClaimFactsTogether(db, { payoutId: p.id, legId }),
    ]);
    expect(bad.status).toBe("rejected");
    expect(good).toMatchObject({ status: "fulfilled", value: { status: "processing", legStatus: "pending" } });
  });
});
