// Review of the read fusions (38fa635..f697361): lockPayoutAndBooking, lockPayoutWithFacts,
// readLegsWithPlanFacts / planRemaining, recordLegTransfer's count, the claim's attempt number.
// The old code's reads are the reference: what the fused reads return and decide must be what the
// ORM's reads returned and decided for the same rows. Tests marked `// FINDING:` fail on the code
// as it is; the others pin down what was checked and held.
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import type { Booking, Payout } from "@/generated/prisma/client";
import { fundingOf, knownCharges } from "@/lib/charges/charge-funding";
import { knownPlatformCurrencies, PLATFORM_CURRENCIES_STATE_KEY } from "@/lib/charges/platform-currencies";
import { ENGINE_ACTOR } from "@/lib/context";
import { db } from "@/lib/db";
import { lockPayoutWithFacts } from "@/lib/payouts/booking-facts";
import { lockBooking, lockPayoutAndBooking } from "@/lib/payouts/lock-booking";
import { ensureTransferPlan, readLegsWithPlanFacts } from "@/lib/payouts/payout-transfers";
import { owedByCharge, planTransfers } from "@/lib/payouts/plan-transfers";
import { claimTransfer } from "@/lib/payouts/transfer-claim";

import { createBooking, createPayout, createStripeCharge, createTransferAttempt, knowPlatformCurrencies } from "../../support/factories";

const id = (prefix: string) => `${prefix}_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
const HOUR_MS = 60 * 60 * 1000;

async function addTip(booking: Booking, payout: Payout | null, amount: number, chargeId: string | null, at: Date) {
  return db.tip.create({
    data: {
      externalId: id("tip"),
      bookingId: booking.id,
      payoutId: payout?.id ?? null,
      amount,
      currency: booking.currency,
      status: "accepted",
      stripeChargeId: chargeId,
      tippedAt: at,
      receivedAt: new Date(at.getTime() + 1),
      createdAt: at,
    },
  });
}

/** A due, eligible USD payout paid by a known charge of its booking. */
async function duePayout() {
  const chargeId = id("ch");
  await createStripeCharge(chargeId, 20_000);
  const booking = await createBooking({ stripeChargeId: chargeId, completedAt: new Date(Date.now() - 72 * HOUR_MS) });
  const payout = await createPayout({ booking, eligibleAt: new Date(Date.now() - HOUR_MS) });
  return { booking, payout, chargeId };
}

/** Stores the platform-currencies row with `value` (any JSON value) as it is. */
async function storeCurrenciesValue(value: string | object) {
  await db.systemState.upsert({
    where: { key: PLATFORM_CURRENCIES_STATE_KEY },
    create: { key: PLATFORM_CURRENCIES_STATE_KEY, value },
    update: { value },
  });
}

const planIn = (payoutId: string) =>
  db.$transaction(async (tx) => {
    const locked = await lockPayoutAndBooking(tx, payoutId);
    return ensureTransferPlan(tx, locked.payout, locked.booking);
  });

describe("the platform's currencies as the planner reads them (SystemState)", () => {
  // FINDING: platformCurrenciesFrom JSON.parses a stored value that is a JSON *string*. The old
  // knownPlatformCurrencies (parseStored on the ORM's value) took any string as "never learnt"
  // (null: the transfer is tried, and refreshPlatformCurrencies, which still parses without
  // JSON.parse, asks Stripe again). Now a string that is not JSON text throws a SyntaxError from
  // knownPlatformCurrencies (booking ingestion: record-new-completed-bookings, applyCurrencyPolicy)
  // and from every claim's plan (readLegsWithPlanFacts): no booking is recorded and no payout is
  // claimed until the row is rewritten.
  it("takes a stored value that is a plain JSON string as never learnt, as before", async () => {
    await storeCurrenciesValue("usd");
    await expect(knownPlatformCurrencies(db)).resolves.toBeNull();
  });

  // FINDING: the same, end to end: the claim of a due, payable payout throws instead of claiming it.
  it("claims a due payout while the stored value is a plain JSON string", async () => {
    const { payout, chargeId } = await duePayout();
    await storeCurrenciesValue("usd");
    const claimed = await claimTransfer({ db, actor: ENGINE_ACTOR, runId: id("run") }, { payoutId: payout.id });
    expect(claimed.kind).toBe("claimed");
    if (claimed.kind !== "claimed") return;
    expect(claimed.claim.legs.map((l) => [l.sourceChargeId, l.amount])).toEqual([[chargeId, payout.amount]]);
  });

  // FINDING: a value stored as a JSON string that holds JSON text (a JSON.stringify'd object
  // written through the Json field) was "never learnt" for the planner (null) and still is for
  // refreshPlatformCurrencies; the planner now reads the currencies inside it. A payout paid from
  // the balance in a currency not in that (stale, never validated) list is held as
  // currency_unsupported instead of being transferred.
  it("claims a payout paid from the balance while the stored value is a JSON string of JSON, as before", async () => {
    const booking = await createBooking({ stripeChargeId: null, completedAt: new Date(Date.now() - 72 * HOUR_MS) });
    const payout = await createPayout({ booking, eligibleAt: new Date(Date.now() - HOUR_MS) });
    await storeCurrenciesValue(JSON.stringify({ currencies: ["eur"], checkedAt: new Date().toISOString() }));
    const facts = await db.$transaction(async (tx) => {
      const locked = await lockPayoutAndBooking(tx, payout.id);
      return readLegsWithPlanFacts(tx, locked.payout, locked.booking);
    });
    const claimed = await claimTransfer({ db, actor: ENGINE_ACTOR, runId: id("run") }, { payoutId: payout.id });
    // Now: skipped, the payout held (currency_unsupported) on a list the old reads never used.
    expect({ kind: claimed.kind, status: (await db.payout.findUniqueOrThrow({ where: { id: payout.id } })).status }).toEqual({
      kind: "claimed",
      status: "processing",
    });
    expect(facts.facts.platformCurrencies).toBeNull();
  });

  it("reads a stored object, JSON null and no row as before", async () => {
    const { payout } = await duePayout();
    const read = async () =>
      db.$transaction(async (tx) => {
        const locked = await lockPayoutAndBooking(tx, payout.id);
        return (await readLegsWithPlanFacts(tx, locked.payout, locked.booking)).facts.platformCurrencies;
      });
    await knowPlatformCurrencies(["usd", "eur"]);
    expect(await read()).toEqual(["usd", "eur"]);
    await storeCurrenciesValue({ currencies: "usd", checkedAt: 1 });
    expect(await read()).toBeNull();
    await db.systemState.deleteMany({ where: { key: PLATFORM_CURRENCIES_STATE_KEY } });
    expect(await read()).toBeNull();
    expect(await knownPlatformCurrencies(db)).toBeNull();
  });
});

describe("dates read back from JSON", () => {
  // Found by the review: json_agg writes a timestamptz with the session's UTC offset and
  // rowsFromJson reads the true instant, while the ORM (and the raw reads of the payout, provider
  // and booking) go through @prisma/adapter-pg, which relabels the offset as +00:00 and writes dates
  // without one (prisma/orm#26786): with a session TimeZone other than UTC, every date Prisma reads
  // or writes is shifted by the offset, and the facts' dates would differ from the payout's. The
  // app needs its sessions in UTC: GET /api/health fails the database check otherwise
  // (test/integration/security/health-endpoint.test.ts). The facts' dates are the stored instants
  // whatever the session's TimeZone.
  it("reads the facts' dates as the instants stored, whatever the session's TimeZone", async () => {
    const chargeId = id("ch");
    const booking = await createBooking({ stripeChargeId: chargeId });
    const payout = await createPayout({ booking });
    await addTip(booking, payout, 300, chargeId, new Date("2026-12-01T09:00:00.001Z"));
    for (const timeZone of ["UTC", "America/New_York", "Asia/Kolkata"]) {
      const fused = await db.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(`SET LOCAL TIME ZONE '${timeZone}'`);
        return lockPayoutWithFacts(tx, booking.id);
      });
      expect(fused.tips.map((t) => t.tippedAt.toISOString())).toEqual(["2026-12-01T09:00:00.001Z"]);
    }
    // In UTC, as the app runs, they are what the ORM reads.
    const fused = await db.$transaction((tx) => lockPayoutWithFacts(tx, booking.id));
    const orm = await db.tip.findMany({ where: { bookingId: booking.id, status: "accepted" } });
    expect(fused.tips.map((t) => t.tippedAt)).toEqual(orm.map((t) => t.tippedAt));
    expect(fused.payout).toEqual(await db.payout.findUnique({ where: { bookingId: booking.id } }));
  });
});

describe("what held", () => {
  it("plans a payout whose booking names no charge, with tips on a charge and on none, as the ORM's reads did", async () => {
    await knowPlatformCurrencies(["usd"]);
    const tipCharge = id("ch");
    await createStripeCharge(tipCharge, 5_000);
    const booking = await createBooking({ stripeChargeId: null, providerShare: 10_000 });
    const payout = await createPayout({ booking, tipAmount: 1_500 });
    await addTip(booking, payout, 1_000, tipCharge, new Date(Date.now() - 2_000));
    await addTip(booking, payout, 500, null, new Date(Date.now() - 1_000));

    const planned = await planIn(payout.id);
    // The planner fed by the ORM's reads, as planRemaining read them before.
    const tips = await db.tip.findMany({
      where: { payoutId: payout.id, status: "accepted" },
      select: { amount: true, stripeChargeId: true, tippedAt: true },
    });
    tips.sort((a, b) => a.tippedAt.getTime() - b.tippedAt.getTime());
    const owed = owedByCharge({
      bookingChargeId: null,
      providerShare: payout.providerShare,
      tips,
      chargeLosses: new Map(),
      unattributedRefunds: 0,
      amount: payout.amount,
    });
    const rows = await db.$transaction((tx) =>
      knownCharges(
        tx,
        owed.flatMap((p) => (p.chargeId ? [p.chargeId] : [])),
      ),
    );
    const oracle = planTransfers({
      payoutCurrency: payout.currency,
      remaining: payout.amount,
      owed,
      charges: new Map([...rows].map(([k, row]) => [k, fundingOf(row)])),
      transferredFrom: new Map(),
      paidFrom: new Map(),
      platformCurrencies: await knownPlatformCurrencies(db),
    });
    if (planned.kind !== "planned" || oracle.kind !== "plan") throw new Error(`${planned.kind} / ${oracle.kind}`);
    const shape = (l: { sourceChargeId: string | null; payoutAmount: number; amount: number }) => [
      l.sourceChargeId,
      l.payoutAmount,
      l.amount,
    ];
    expect(planned.pending.map(shape)).toEqual(oracle.legs.map(shape));
    expect(planned.pending.map((l) => l.sourceChargeId)).toEqual(expect.arrayContaining([tipCharge, null]));
  });

  it("sees the facts and open disputes the booking lock's previous holder committed", async () => {
    const { booking, payout } = await duePayout();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    // The holder locks the booking and the payout, then records a tip and opens a dispute.
    const holder = db.$transaction(async (tx) => {
      await lockPayoutAndBooking(tx, payout.id);
      await tx.tip.create({
        data: {
          externalId: id("tip"),
          bookingId: booking.id,
          amount: 700,
          currency: booking.currency,
          status: "accepted",
          tippedAt: new Date(),
        },
      });
      await tx.dispute.create({ data: { bookingId: booking.id, currency: booking.currency, openedAt: new Date() } });
      locked();
      await held;
    });
    await lockTaken;
    const claimer = db.$transaction(async (tx) => lockPayoutAndBooking(tx, payout.id));
    const syncer = db.$transaction(async (tx) => {
      await lockBooking(tx, booking.id);
      return lockPayoutWithFacts(tx, booking.id);
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    await holder;
    expect((await claimer).openDisputes).toBe(1);
    const facts = await syncer;
    expect(facts.tips.map((t) => t.amount)).toEqual([700]);
    expect(facts.disputes.filter((d) => d.status === "open")).toHaveLength(1);
  });

  it("numbers a claim's attempt after the payout's last, gaps and all", async () => {
    const { payout } = await duePayout();
    await knowPlatformCurrencies(["usd"]);
    for (const attemptNumber of [1, 2, 5]) {
      await createTransferAttempt(payout, attemptNumber, { status: "failed" });
    }
    const claimed = await claimTransfer({ db, actor: ENGINE_ACTOR, runId: id("run") }, { payoutId: payout.id });
    if (claimed.kind !== "claimed") throw new Error(claimed.kind);
    expect(claimed.claim.attemptNumber).toBe(6);
    expect(claimed.claim.lookupFirst).toBe(true);
    const row = await db.transferAttempt.findUniqueOrThrow({ where: { id: claimed.claim.attemptId } });
    expect(row).toMatchObject({ attemptNumber: 6, status: "started", counted: true, amountVersion: payout.amountVersion });
  });
});
