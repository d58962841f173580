// Review of 3b831fa (the transfer step's reads cut: attempt-facts.ts, the claim keeping its plan,
// knownTransferIds in one statement, a leg and its transfer's holder in one read, an attempt and the
// latest one in one read). Each test compares what the new code decides with what the parent did.
import { randomUUID } from "node:crypto";

import type Stripe from "stripe";
import { beforeEach, describe, expect, it } from "vitest";

import { PLATFORM_CURRENCIES_STATE_KEY } from "@/lib/charges/platform-currencies";
import { resolveContext } from "@/lib/context";
import { db } from "@/lib/db";
import { readAttemptFacts } from "@/lib/payouts/attempt-facts";
import { chargeIdsOf } from "@/lib/payouts/payout-transfers";
import { knownTransferIds } from "@/lib/payouts/payout-transfers";
import { prepareFunding } from "@/lib/payouts/transfer-funding";
import { recordLegTransfer } from "@/lib/payouts/transfer-leg";
import { transferPayout } from "@/lib/payouts/transfer-payout";
import { UNEXPECTED_TRANSFER } from "@/lib/payouts/transfer-review";
import { addTip } from "@/lib/tips/add-tip";

import { HOUR, payoutOf, engineHarness } from "../../support/engine";
import { legsOf, putBackAfterUnknownOutcome } from "../../support/unknown-outcome";

const h = engineHarness();

beforeEach(() => {
  h.fake.clearFaults();
});

/** A Stripe client whose `resource.method` runs `before` (once) ahead of the real call: a webhook landing mid-request. */
function clientWith(resource: "paymentIntents" | "balance" | "charges", method: string, before: () => Promise<void>): Stripe {
  const real = h.stripe;
  let done = false;
  const target = Reflect.get(real, resource) as unknown as Record<string, (...args: unknown[]) => unknown>;
  const wrapped = new Proxy(target, {
    get: (t, key) => {
      const value = Reflect.get(t, key) as unknown;
      if (key !== method || typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        if (!done) {
          done = true;
          await before();
        }
        return (value as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
  return new Proxy(real, { get: (t, key) => (key === resource ? wrapped : Reflect.get(t, key)) });
}

/** knownTransferIds as the parent commit wrote it (two Prisma queries, startsWith). */
async function knownTransferIdsBefore(payoutId: string): Promise<string[]> {
  const recorded = await db.payoutTransfer.findMany({
    where: { payoutId, stripeTransferId: { not: null } },
    select: { stripeTransferId: true },
  });
  const acknowledged = await db.alert.findMany({
    where: { payoutId, kind: UNEXPECTED_TRANSFER, acknowledgedAt: { not: null }, dedupeKey: { startsWith: `${UNEXPECTED_TRANSFER}:` } },
    select: { dedupeKey: true },
  });
  return [...recorded.map((r) => r.stripeTransferId!), ...acknowledged.map((a) => a.dedupeKey!.slice(UNEXPECTED_TRANSFER.length + 1))];
}

describe("attempt facts read as the steps read them", () => {
  it("booking and tip charges (shared, own, by PaymentIntent only, rejected), known charges, jsonb parsed", async () => {
    const bookingCharge = h.fake.createCharge({ amount: 12_000, currency: "usd" });
    const ownTipCharge = h.fake.createCharge({ amount: 900, currency: "usd" });
    const intentTipCharge = h.fake.createCharge({ amount: 400, currency: "usd" });
    const completedAt = h.clock.now();
    const { bookingId } = await h.completeBooking({
      providerReady: true,
      stripeChargeId: bookingCharge.id,
      providerShare: 8_000,
      completedAt,
    });
    const tip = (amount: number, extra: { stripeChargeId?: string; stripePaymentIntentId?: string; currency?: string }) =>
      addTip(h.ctx(), {
        tipExternalId: `tip_${randomUUID().slice(0, 8)}`,
        bookingId,
        amount,
        currency: extra.currency ?? "USD",
        tippedAt: new Date(completedAt.getTime() + HOUR),
        ...extra,
      });
    await tip(300, { stripeChargeId: bookingCharge.id });
    await tip(900, { stripeChargeId: ownTipCharge.id });
    await tip(400, { stripePaymentIntentId: intentTipCharge.payment_intent as string });
    await tip(500, { stripeChargeId: "ch_rejected_other_currency", currency: "EUR" });
    const payout = await payoutOf(bookingId);
    expect(payout.amount).toBe(8_000 + 300 + 900 + 400);

    const facts = (await readAttemptFacts(db, payout.id))!;
    expect(facts.tips).toHaveLength(3);
    expect(Array.isArray(facts.tips)).toBe(true);
    expect(chargeIdsOf(facts).sort()).toEqual([bookingCharge.id, ownTipCharge.id].sort());
    expect(facts.knownChargeIds).toEqual([]);
    expect(facts.staleLegs).toBe(false);
    expect(facts.platformCurrencies).toEqual({ value: null });

    h.clock.advance(48 * HOUR + 1000);
    expect(await prepareFunding(h.ctx(), h.stripe, { payoutId: payout.id })).toBeNull();
    const after = (await readAttemptFacts(db, payout.id))!;
    // The PaymentIntent's charge was learnt and described too (the re-read after chargesLearnt).
    expect(after.knownChargeIds.sort()).toEqual([bookingCharge.id, ownTipCharge.id, intentTipCharge.id].sort());
    // The kept currencies come back as an object: the next attempt within the hour does not ask Stripe again.
    expect(after.platformCurrencies.value).toMatchObject({ currencies: expect.any(Array) });
    const balanceReads = () => h.fake.requests().filter((r) => r.path === "/v1/balance").length;
    const before = balanceReads();
    expect(await prepareFunding(h.ctx(), h.stripe, { payoutId: payout.id })).toBeNull();
    expect(balanceReads()).toBe(before);

    const result = await transferPayout({ ...h.ctx(), runId: "run_facts" }, h.stripe, { payoutId: payout.id });
    expect(result.kind).toBe("transferred");
    const legs = await db.payoutTransfer.findMany({ where: { payoutId: payout.id }, orderBy: { leg: "asc" } });
    expect(legs.map((l) => [l.sourceChargeId, l.amount])).toEqual([
      [bookingCharge.id, 8_300],
      [ownTipCharge.id, 900],
      [intentTipCharge.id, 400],
    ]);
    expect(h.transfersFor(payout.id).reduce((s, t) => s + t.amount, 0)).toBe(9_600);
  });
});

describe("knownTransferIds (one statement) against the parent's two queries", () => {
  it("same ids for recorded legs and acknowledged alerts, with LIKE metacharacters, NULL keys and look-alikes", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 5_000 });
    h.clock.advance(48 * HOUR + 1000);
    const payout = await payoutOf(bookingId);
    const other = await payoutOf((await h.completeBooking({ providerReady: true, providerShare: 5_000 })).bookingId);
    expect((await transferPayout({ ...h.ctx(), runId: "run_known" }, h.stripe, { payoutId: payout.id })).kind).toBe("transferred");
    const now = h.clock.now();
    const alert = (dedupeKey: string | null, extra: { kind?: string; acknowledged?: boolean; payoutId?: string } = {}) =>
      db.alert.create({
        data: {
          kind: extra.kind ?? UNEXPECTED_TRANSFER,
          severity: "critical",
          title: "t",
          message: "m",
          payoutId: extra.payoutId ?? payout.id,
          dedupeKey,
          acknowledgedAt: extra.acknowledged === false ? null : now,
        },
      });
    await alert(`${UNEXPECTED_TRANSFER}:tr_plain`);
    await alert(`${UNEXPECTED_TRANSFER}:tr_%_odd\\x`);
    await alert(`${UNEXPECTED_TRANSFER}:`);
    await alert(`${UNEXPECTED_TRANSFER}:tr_ünï`);
    await alert(null);
    await alert(`unexpectedXtransfer:tr_lookalike`);
    await alert(`UNEXPECTED_TRANSFER:tr_upper`);
    await alert(`${UNEXPECTED_TRANSFER}:tr_unacknowledged`, { acknowledged: false });
    await alert(`${UNEXPECTED_TRANSFER}:tr_other_kind_key`, { kind: "payout_transfer_review" });
    await alert(`${UNEXPECTED_TRANSFER}:tr_other_payout`, { payoutId: other.id });

    const now_ = (await knownTransferIds(db, payout.id)).sort();
    const before = (await knownTransferIdsBefore(payout.id)).sort();
    const exact = [h.transfersFor(payout.id)[0]!.id, "tr_plain", "tr_%_odd\\x", "", "tr_ünï"].sort();
    expect(now_).toEqual(exact);
    // The parent's startsWith left the prefix's "_" a LIKE wildcard: a look-alike key was taken as an
    // acknowledged transfer (left out of look-ups). The new statement compares the prefix exactly: never fewer alerts.
    expect(before).toEqual([...exact, "tr_lookalike"].sort());
    // Inside a transaction (the claim's) too.
    expect((await db.$transaction((tx) => knownTransferIds(tx, payout.id))).sort()).toEqual(exact);
  });
});

describe("recordLegTransfer (a leg and its transfer's holder in one read)", () => {
  it("a transfer id another leg holds is 'elsewhere' (alerted, nothing written); its own is 'already'", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 5_000 });
    h.clock.advance(48 * HOUR + 1000);
    const payout = await payoutOf(bookingId);
    await transferPayout({ ...h.ctx(), runId: "run_leg" }, h.stripe, { payoutId: payout.id });
    const [paid] = await db.payoutTransfer.findMany({ where: { payoutId: payout.id } });
    const transfer = h.transfersFor(payout.id)[0]!;
    // A second leg, planned (odd data), that Stripe's transfer of leg 1 is offered to.
    const second = await db.payoutTransfer.create({
      data: {
        payoutId: payout.id,
        kind: "payout",
        amountVersion: payout.amountVersion,
        leg: 2,
        payoutAmount: 1,
        amount: 1,
        currency: "USD",
        idempotencyKey: `payout:${payout.id}:v${payout.amountVersion}:l2`,
      },
    });
    const locked = await payoutOf(bookingId);
    const ctx = resolveContext(h.ctx());
    const result = await db.$transaction((tx) => recordLegTransfer(tx, ctx, locked, second.id, transfer, null));
    expect(result.kind).toBe("elsewhere");
    expect(await db.payoutTransfer.findUniqueOrThrow({ where: { id: second.id } })).toMatchObject({
      status: "pending",
      stripeTransferId: null,
    });
    expect(await db.alert.count({ where: { dedupeKey: `${UNEXPECTED_TRANSFER}:${transfer.id}` } })).toBe(1);
    const again = await db.$transaction((tx) => recordLegTransfer(tx, ctx, locked, paid!.id, transfer, null));
    expect(again.kind).toBe("already");
    await expect(db.$transaction((tx) => recordLegTransfer(tx, ctx, locked, randomUUID(), transfer, null))).rejects.toThrow();
  });
});

describe("facts read before Stripe calls, used after them", () => {
  it("the amount changes while prepareFunding asks Stripe: the stale leg's look-up is skipped, but the claim refuses to plan over it; nothing is paid twice", async () => {
    const ctx = await putBackAfterUnknownOutcome(h);
    // The kept currencies are older than an hour: prepareFunding asks Stripe's balance, and a tip lands meanwhile.
    await db.systemState.deleteMany({ where: { key: PLATFORM_CURRENCIES_STATE_KEY } });
    const stripe = clientWith("balance", "retrieve", async () => {
      await addTip(h.ctx(), {
        tipExternalId: `tip_${randomUUID().slice(0, 8)}`,
        bookingId: ctx.payout.bookingId,
        amount: 700,
        currency: "USD",
        tippedAt: new Date(ctx.completedAt.getTime() + HOUR),
      });
    });

    const first = await transferPayout({ ...h.ctx(), runId: "run_race_1" }, stripe, { payoutId: ctx.payout.id });
    // The parent looked the version-1 leg up here (its read came after the balance call) and paid 8700
    // in this run; now the claim finds the stale leg and asks for another try (not counted).
    expect(first).toMatchObject({ kind: "retry", counted: false });
    expect(h.transfersFor(ctx.payout.id)).toHaveLength(0);
    expect(await payoutOf(ctx.payout.bookingId)).toMatchObject({ status: "scheduled", amountVersion: 2 });

    const second = await transferPayout({ ...h.ctx(), runId: "run_race_2" }, h.stripe, { payoutId: ctx.payout.id });
    expect(second.kind).toBe("transferred");
    expect(h.transfersFor(ctx.payout.id).map((t) => [t.amount, t.metadata.amountVersion])).toEqual([[8_700, "2"]]);
    expect(await legsOf(ctx.payout.id)).toMatchObject([
      { leg: 1, amountVersion: 1, status: "superseded" },
      { leg: 2, amountVersion: 2, amount: 8_700, status: "succeeded" },
    ]);
  });

  it("a tip paid with its own charge joins while a PaymentIntent is looked up (no charge learnt): its charge is described and funds its transfer, as in the parent", async () => {
    const bookingCharge = h.fake.createCharge({ amount: 10_000, currency: "usd" });
    const tipCharge = h.fake.createCharge({ amount: 1_000, currency: "usd" });
    const completedAt = h.clock.now();
    const { bookingId } = await h.completeBooking({
      providerReady: true,
      stripeChargeId: bookingCharge.id,
      providerShare: 8_000,
      completedAt,
    });
    // A tip whose PaymentIntent Stripe does not know (its part is paid from the balance, as documented).
    await addTip(h.ctx(), {
      tipExternalId: `tip_${randomUUID().slice(0, 8)}`,
      bookingId,
      amount: 200,
      currency: "USD",
      tippedAt: new Date(completedAt.getTime() + HOUR),
      stripePaymentIntentId: "pi_unknown_to_stripe",
    });
    h.clock.advance(48 * HOUR + 1000);
    const payout = await payoutOf(bookingId);
    const stripe = clientWith("paymentIntents", "retrieve", async () => {
      await addTip(h.ctx(), {
        tipExternalId: `tip_${randomUUID().slice(0, 8)}`,
        bookingId,
        amount: 1_000,
        currency: "USD",
        tippedAt: new Date(completedAt.getTime() + 2 * HOUR),
        stripeChargeId: tipCharge.id,
      });
    });

    // The platform's available USD is spent: only transfers funded by their charges can go out.
    h.fake.setBalance("usd", 0);
    let result;
    try {
      result = await transferPayout({ ...h.ctx(), runId: "run_tip_race" }, stripe, { payoutId: payout.id });
    } finally {
      h.fake.setBalance("usd", 1_000_000_000);
    }
    const legs = await db.payoutTransfer.findMany({ where: { payoutId: payout.id }, orderBy: { leg: "asc" } });
    // Parent: transferred in this run, both legs funded by their charges. HEAD: the tip's charge is
    // never described, its 10.00 is planned from the (empty) balance, and the partly paid payout is
    // parked on hold awaiting_funds.
    expect(result).toMatchObject({ kind: "transferred" });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred" });
    // Parent: chargeIdsOfPayout was read after the PaymentIntent call, so the tip's charge was
    // described and carries its tip (source_transaction).
    expect(legs.map((l) => [l.sourceChargeId, l.amount])).toEqual([
      [bookingCharge.id, 8_200],
      [tipCharge.id, 1_000],
    ]);
  });
});
