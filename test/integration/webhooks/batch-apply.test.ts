// Issue 13: completions of new bookings are recorded many at once (lib/ingest/apply-batch.ts,
// lib/webhooks/record-new-completed-bookings.ts). The same deliveries, applied one at a time
// through the engine's services (applyInOrder, as before) under one namespace and as one batch
// under another, must leave the same rows: providers, bookings, payouts, audit entries, the
// booking platform's events, Inngest events, tips, alerts and the deliveries' outcomes. The
// cases the set-based path leaves to the services are among them, so both halves of the batch
// are held to the old path.
import { randomUUID } from "node:crypto";

import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { WebhookEvent } from "@/generated/prisma/client";
import { db } from "@/lib/db";
import { applyBatch } from "@/lib/ingest/apply-batch";
import { applyInOrder, laneKeyOf } from "@/lib/ingest/apply-in-order";
import type { TWebhookDeps } from "@/lib/webhooks/types";

import { bookingCompletedEvent, storeBookingEvent, type TBookingEvent, tipCreatedEvent } from "../../support/booking-webhook";
import { startEngineHarness, type TEngineHarness } from "../../support/engine";
import { knowPlatformCurrencies } from "../../support/factories";

let h: TEngineHarness;
let deps: TWebhookDeps;

beforeAll(async () => {
  h = await startEngineHarness();
  deps = { db, stripe: () => h.stripe };
  // The platform's balance holds USD and EUR (a GBP payout is converted, or held without a charge).
  await knowPlatformCurrencies(["USD", "EUR"]);
});
afterAll(async () => {
  await h.fake.stop();
});

const DAY = 24 * 60 * 60 * 1000;
/** When Stripe said what it said of the kept account (the same in both namespaces). */
const KEPT_AT = new Date(Date.now() - DAY);
/** When the bookings completed (an hour ago), the same in both namespaces. */
const COMPLETED_AT = new Date(Date.now() - DAY / 24);

/** Stores a delivery as the route does, without applying it. */
const store = (event: TBookingEvent) => storeBookingEvent(event, deps);

/** Stores and applies one delivery at a time, in its lane (the path before batches). */
async function applyOneByOne(events: readonly TBookingEvent[]): Promise<void> {
  for (const event of events) {
    const delivery = await store(event);
    await applyInOrder(deps, laneKeyOf(delivery));
  }
}

/**
 * The world before the measured deliveries, and the deliveries, under namespace `ns`: every
 * external id (bookings, providers, charges, accounts) starts with it.
 */
async function scenario(ns: string): Promise<{ setup: TBookingEvent[]; deliveries: TBookingEvent[] }> {
  const acct = (n: string) => `acct_${ns}${n}`;
  const completed = (n: string, provider: string, extra: Partial<Parameters<typeof bookingCompletedEvent>[0]> = {}) =>
    bookingCompletedEvent({
      bookingId: `${ns}bk_${n}`,
      providerId: `${ns}prov_${provider}`,
      stripeAccountId: acct(provider),
      completedAt: COMPLETED_AT,
      ...extra,
    });

  // A provider recorded before, ready to be paid (its payouts can be due at once).
  await db.provider.create({
    data: {
      externalId: `${ns}prov_ready`,
      name: "Ready",
      email: "ready@example.test",
      stripeAccountId: acct("ready"),
      payoutsEnabled: true,
    },
  });
  // A provider recorded before without an account.
  await db.provider.create({ data: { externalId: `${ns}prov_noacct`, name: "No account", email: "noacct@example.test" } });
  // What Stripe said of an account before any provider had it.
  await db.stripeAccount.create({
    data: {
      id: acct("kept"),
      payoutsEnabled: true,
      transfersActive: true,
      stateAt: KEPT_AT,
      toldAt: KEPT_AT,
    },
  });

  const setup = [
    completed("known", "ready"), // recorded before: the batch's second delivery for it is a duplicate
    completed("charged", "c1", { chargeId: `ch_${ns}taken` }), // its charge is named again below
    tip(ns), // a tip before its booking: deferred
  ];
  const twiceA = completed("twice", "t1");
  const twiceB = { ...twiceA, id: `evt_${randomUUID()}` }; // the same completion under another event id
  const deliveries: TBookingEvent[] = [
    completed("new1", "p1"), // plain: a new provider
    completed("new2", "p1"), // plain: the same provider again in the batch
    completed("new3", "p2", { chargeId: `ch_${ns}3`, currency: "eur", providerShare: 12_345 }),
    completed("pi", "p3", { chargeId: `pi_${ns}4` }), // a PaymentIntent given as the charge
    completed("pi2", "p3", { paymentIntentId: `pi_${ns}5`, chargeId: `ch_${ns}5` }),
    completed("known", "ready"), // a duplicate under a new event id
    completed("due", "ready", { completedAt: new Date(COMPLETED_AT.getTime() - 3 * DAY) }), // due now: a transfer is requested
    completed("notdue", "ready"), // an existing ready provider, not due yet
    completed("gbp", "p4", { currency: "GBP", chargeId: `ch_${ns}gbp` }), // converted
    completed("gbpnocharge", "p5", { currency: "GBP" }), // held, alerted
    completed("reused", "p6", { chargeId: `ch_${ns}taken` }), // another booking's charge: fails
    completed("noacct", "noacct"), // the provider's account is learnt now
    completed("kept", "kept"), // the account's kept state applies
    completed("tipped", "p7"), // wakes the deferred tip
    completed("zero", "p8", { providerShare: 0 }),
    bookingCompletedEvent({
      bookingId: `${ns}bk_sameacct`,
      providerId: `${ns}prov_other`,
      stripeAccountId: acct("p1"),
      completedAt: COMPLETED_AT,
    }), // p1's account
    twiceA,
    twiceB,
  ];
  return { setup, deliveries };
}

/** A tip (its id in the namespace) sent before its booking. */
function tip(ns: string): TBookingEvent {
  const event = tipCreatedEvent({ bookingId: `${ns}bk_tipped`, amount: 1_500, tippedAt: COMPLETED_AT });
  return { ...event, data: { ...event.data, tipId: `tip_${ns}1` } };
}

/** A booking platform event with a body given whole (cancellations, disputes). */
function platformEvent(type: string, data: Record<string, unknown>): TBookingEvent {
  return { id: `evt_${randomUUID()}`, type, createdAt: COMPLETED_AT.toISOString(), data };
}

/** Tips on bookings recorded before (the setup), each case addTip decides otherwise among them. */
async function tipScenario(ns: string): Promise<TScenario> {
  await db.provider.create({
    data: {
      externalId: `${ns}prov_ready`,
      name: "Ready",
      email: "ready@example.test",
      stripeAccountId: `acct_${ns}ready`,
      payoutsEnabled: true,
    },
  });
  const completed = (n: string, extra: Partial<Parameters<typeof bookingCompletedEvent>[0]> = {}) =>
    bookingCompletedEvent({
      bookingId: `${ns}bk_${n}`,
      providerId: `${ns}prov_${n}`,
      stripeAccountId: `acct_${ns}${n}`,
      completedAt: COMPLETED_AT,
      ...extra,
    });
  const tipOn = (n: string, tip: string, amount: number, extra: Record<string, unknown> = {}, tippedAt = COMPLETED_AT) => {
    const event = tipCreatedEvent({ bookingId: `${ns}bk_${n}`, amount, tippedAt });
    return { ...event, data: { ...event.data, tipId: `tip_${ns}${tip}`, ...extra } };
  };
  const dueAt = new Date(COMPLETED_AT.getTime() - 3 * DAY);
  const setup = [
    ...["plain", "second", "held", "cancelled", "charged", "late", "eur", "dup", "refunded", "edge", "pastedge", "lower", "pi"].map((n) =>
      completed(n),
    ),
    completed("due", { providerId: `${ns}prov_ready`, stripeAccountId: `acct_${ns}ready`, completedAt: dueAt }),
    platformEvent("dispute.opened", {
      disputeId: `${ns}dp_1`,
      bookingId: `${ns}bk_held`,
      reason: "not delivered",
      openedAt: COMPLETED_AT.toISOString(),
      scope: "booking",
    }),
    platformEvent("booking.cancelled", {
      bookingId: `${ns}bk_cancelled`,
      cancelledAt: COMPLETED_AT.toISOString(),
      reason: "customer cancelled",
    }),
    tipOn("dup", "dup", 700),
  ];
  const deliveries = [
    tipOn("plain", "1", 1_500), // plain
    tipOn("second", "2", 300), // plain
    tipOn("second", "3", 400), // the second in its lane: one at a time after it
    tipOn("held", "4", 500), // a dispute is open: the payout is held
    tipOn("cancelled", "5", 500), // rejected: the booking was cancelled
    tipOn("charged", "6", 500, { chargeId: `ch_${ns}tip` }), // paid with a charge: re-priced by the services
    tipOn("late", "7", 500, {}, new Date(COMPLETED_AT.getTime() + 2 * DAY)), // rejected: after the window
    tipOn("eur", "8", 500, { currency: "EUR" }), // rejected: another currency
    tipOn("dup", "dup", 700), // the same tip again (another event id): a duplicate
    tipOn("unknown", "9", 500), // no such booking yet: deferred
    tipOn("due", "10", 500, {}, new Date(dueAt.getTime() + DAY / 24)), // the payout is due: the services request its transfer
    completed("fresh"), // a completion in the same batch
    tipOn("fresh", "11", 250), // its tip, second in its lane
    tipOn("refunded", "12", 500), // Stripe refunded part of the booking's charge: the services apply both
    tipOn("edge", "13", 600, {}, new Date(COMPLETED_AT.getTime() + DAY)), // at the window's last moment: plain
    tipOn("pastedge", "14", 600, {}, new Date(COMPLETED_AT.getTime() + DAY + 1)), // a millisecond after: rejected
    tipOn("lower", "15", 800, { currency: "usd" }), // the currency in lower case: plain
    tipOn("pi", "16", 500, { paymentIntentId: `pi_${ns}tip` }), // paid with a PaymentIntent: the services
  ];
  // A refund Stripe reported on the booking's charge, not applied to its payout yet.
  const afterSetup = async () => {
    const booking = await db.booking.findUniqueOrThrow({ where: { externalId: `${ns}bk_refunded` } });
    await db.chargeRefund.create({
      data: {
        bookingId: booking.id,
        stripeChargeId: `ch_${ns}refunded`,
        sequence: 1,
        currency: "USD",
        chargeAmount: 10_000,
        providerPortion: 8_000,
        customerRefundedTotal: 1_000,
        providerRefundedTotal: 800,
        amount: 800,
        refundedAt: COMPLETED_AT,
      },
    });
  };
  return { setup, afterSetup, deliveries };
}

/** Everything the deliveries of namespace `ns` wrote, with ids and the namespace replaced by stable names. */
async function snapshot(ns: string) {
  const names = new Map<string, string>();
  const name = (kind: string, id: string | null | undefined) => {
    if (!id) return id ?? null;
    if (!names.has(id)) names.set(id, `${kind}#${[...names.values()].filter((n) => n.startsWith(`${kind}#`)).length + 1}`);
    return names.get(id)!;
  };
  const strip = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? null).replaceAll(ns, "NS"));

  const providers = await db.provider.findMany({ where: { externalId: { startsWith: ns } }, orderBy: { externalId: "asc" } });
  const bookings = await db.booking.findMany({ where: { externalId: { startsWith: ns } }, orderBy: { externalId: "asc" } });
  const payouts = await db.payout.findMany({ where: { bookingId: { in: bookings.map((b) => b.id) } } });
  const deliveries = await db.webhookEvent.findMany({
    where: { bookingExternalId: { startsWith: ns } },
    orderBy: [{ receivedAt: "asc" }, { id: "asc" }],
  });
  for (const b of bookings) name("booking", b.id);
  for (const p of [...payouts].sort((a, b) => names.get(a.bookingId)!.localeCompare(names.get(b.bookingId)!)))
    names.set(p.id, `payout-of-${names.get(p.bookingId)}`);
  for (const p of providers) name("provider", p.id);
  for (const d of deliveries) name("delivery", d.id);
  const rename = (value: unknown): unknown => {
    let text = JSON.stringify(strip(value));
    for (const [id, n] of names) text = text.replaceAll(id, n);
    return JSON.parse(text);
  };
  const entityIds = [...bookings.map((b) => b.id), ...payouts.map((p) => p.id), ...providers.map((p) => p.id)];
  const audits = await db.auditLog.findMany({ where: { entityId: { in: entityIds } } });
  const events = await db.platformWebhookEvent.findMany({ where: { subjectId: { in: payouts.map((p) => p.id) } } });
  const outbox = await db.outboxEvent.findMany({
    where: {
      OR: [{ eventId: { in: deliveries.map((d) => d.id) } }, ...payouts.map((p) => ({ eventId: { startsWith: `transfer:${p.id}` } }))],
    },
  });
  const alerts = await db.alert.findMany({ where: { payoutId: { in: payouts.map((p) => p.id) } } });
  const tips = await db.tip.findMany({ where: { bookingId: { in: bookings.map((b) => b.id) } }, orderBy: { externalId: "asc" } });
  for (const t of tips) name("tip", t.id);
  for (const d of await db.dispute.findMany({ where: { bookingId: { in: bookings.map((b) => b.id) } }, orderBy: { externalId: "asc" } }))
    name("dispute", d.id);
  const sorted = <T>(rows: T[]) => rows.map((r) => rename(r)).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return {
    providers: sorted(
      providers.map(({ externalId, name: n, email, stripeAccountId, payoutsEnabled, accountStateAt }) => ({
        externalId,
        n,
        email,
        stripeAccountId,
        payoutsEnabled,
        accountStateAt,
      })),
    ),
    bookings: sorted(bookings.map(({ id: _id, createdAt: _c, updatedAt: _u, providerId, ...rest }) => ({ ...rest, providerId }))),
    payouts: sorted(payouts.map(({ createdAt: _c, updatedAt: _u, ...rest }) => rest)),
    audits: sorted(audits.map(({ id: _id, createdAt: _c, ...rest }) => rest)),
    events: sorted(events.map(({ type, sequence, payload, subjectId }) => ({ type, sequence, payload, subjectId }))),
    outbox: sorted(outbox.map(({ eventId, name: n, data }) => ({ eventId, n, data }))),
    alerts: sorted(alerts.map(({ kind, severity, title, message, payoutId }) => ({ kind, severity, title, message, payoutId }))),
    tips: sorted(tips.map(({ status, amount, payoutId, rejectionReason }) => ({ status, amount, payoutId, rejectionReason }))),
    deliveries: deliveries.map((d) => rename({ id: d.id, status: d.status, error: d.error, applyAttempts: d.applyAttempts })),
  };
}

type TScenario = { setup: TBookingEvent[]; afterSetup?: () => Promise<void>; deliveries: TBookingEvent[] };

/**
 * The scenario under two namespaces: applied one delivery at a time (the path before batches) in
 * one, as one batch in the other; every row of the batch's namespace equals the other's. The
 * batch's result and its rows.
 */
async function bothWays(scenarioOf: (ns: string) => Promise<TScenario>) {
  const one = `o${randomUUID().slice(0, 6)}X`;
  const batch = `b${randomUUID().slice(0, 6)}X`;
  const a = await scenarioOf(one);
  await applyOneByOne(a.setup);
  await a.afterSetup?.();
  await applyOneByOne(a.deliveries);

  const b = await scenarioOf(batch);
  await applyOneByOne(b.setup);
  await b.afterSetup?.();
  const stored: WebhookEvent[] = [];
  for (const event of b.deliveries) {
    stored.push(await store(event));
    // Each its own receivedAt, as in the one-at-a-time run: the comparison names deliveries in that order.
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const result = await applyBatch(deps, stored);
  expect(result.together.length + result.oneByOne.length).toBe(b.deliveries.length);
  expect(await db.ingestLane.count()).toBe(0);
  const expected = await snapshot(one);
  const actual = await snapshot(batch);
  // Every kind of row, one expectation each (a failure names the kind).
  for (const kind of Object.keys(expected) as (keyof typeof expected)[]) expect(actual[kind], kind).toEqual(expected[kind]);
  return { result, actual };
}

describe("a batch of completions leaves the same rows as applying them one at a time", () => {
  it("plain completions and every case the set-based path leaves to the services", async () => {
    const { result, actual } = await bothWays(scenario);
    // The plain ones went together (new1, new2, new3, pi, pi2, tipped, the first of twice); the rest one at a time,
    // notdue too: a delivery of its provider (known, a duplicate) was left before it, and is applied first.
    expect(result.together).toHaveLength(7);

    // And the scenario exercised what it says: a duplicate, a due payout, a conversion, a hold, a failure, a tip.
    const statuses = actual.deliveries.map((d) => (d as { status: string }).status);
    expect(statuses.filter((s) => s === "failed").length).toBeGreaterThanOrEqual(1);
    expect(actual.outbox.some((e) => JSON.stringify(e).includes("payout/transfer.requested"))).toBe(true);
    expect(actual.alerts.some((e) => JSON.stringify(e).includes("payout_currency_unsupported"))).toBe(true);
    expect(actual.tips).toMatchObject([{ status: "accepted", amount: 1_500 }]);
  });

  it("tips: plain ones join their payouts together, every other case one at a time through addTip", async () => {
    const { result, actual } = await bothWays(tipScenario);
    // Together: the tips on plain, second, edge and lower and the completion of fresh, then (the next
    // round, each second in its lane) second's other tip and fresh's tip.
    expect(result.together).toHaveLength(7);

    // The scenario exercised what it says: rejections, a duplicate, a deferral, a transfer request.
    const outcomes = JSON.stringify(actual.deliveries);
    expect(outcomes).toContain("tip rejected");
    expect(outcomes).toContain("tip already recorded");
    expect(outcomes).toContain("deferred");
    expect(actual.outbox.some((e) => JSON.stringify(e).includes("payout/transfer.requested"))).toBe(true);
    expect(actual.payouts.some((p) => JSON.stringify(p).includes('"tipAmount":700'))).toBe(true);
  });

  it("two servers applying overlapping batches: each delivery applied once, each booking one payout", async () => {
    const ns = `r${randomUUID().slice(0, 6)}X`;
    const events = Array.from({ length: 60 }, (_, i) =>
      bookingCompletedEvent({ bookingId: `${ns}bk_${i}`, providerId: `${ns}prov_${i % 7}`, stripeAccountId: `acct_${ns}${i % 7}` }),
    );
    const stored: WebhookEvent[] = [];
    for (const event of events) stored.push(await store(event));
    const other: TWebhookDeps = { ...deps };
    await Promise.all([applyBatch(deps, stored), applyBatch(other, [...stored].reverse()), applyBatch(deps, stored.slice(20, 40))]);
    const deliveries = await db.webhookEvent.findMany({ where: { bookingExternalId: { startsWith: ns } } });
    // A lane held by another batch is left to it: whatever is still received is applied by a later look.
    const left = deliveries.filter((d) => d.status === "received");
    if (left.length > 0) await applyBatch(deps, left);
    const after = await db.webhookEvent.findMany({ where: { bookingExternalId: { startsWith: ns } } });
    expect(after.map((d) => [d.status, d.applyAttempts])).toEqual(after.map(() => ["processed", 1]));
    expect(await db.payout.count({ where: { booking: { externalId: { startsWith: ns } } } })).toBe(60);
    expect(await db.provider.count({ where: { externalId: { startsWith: ns } } })).toBe(7);
    expect(await db.auditLog.count({ where: { action: "payout.scheduled", requestId: { in: after.map((d) => `webhook:${d.id}`) } } })).toBe(
      60,
    );
    expect(await db.outboxEvent.count({ where: { eventId: { in: after.map((d) => d.id) } } })).toBe(60);
    expect(await db.ingestLane.count()).toBe(0);
  });
});

describe("round trips of a batch", () => {
  it("100 completions of new bookings: a dozen statements for the batch besides each one's store", async () => {
    const ns = `t${randomUUID().slice(0, 6)}X`;
    const stored: WebhookEvent[] = [];
    for (let i = 0; i < 100; i++) {
      stored.push(
        await store(
          bookingCompletedEvent({ bookingId: `${ns}bk_${i}`, providerId: `${ns}prov_${i % 30}`, stripeAccountId: `acct_${ns}${i % 30}` }),
        ),
      );
    }
    type TQueryFn = (...args: unknown[]) => unknown;
    const original = pg.Client.prototype.query as unknown as TQueryFn;
    let statements = 0;
    (pg.Client.prototype as unknown as { query: TQueryFn }).query = function (this: pg.Client, ...args: unknown[]) {
      statements += 1;
      return original.apply(this, args);
    };
    let result;
    try {
      result = await applyBatch(deps, stored);
    } finally {
      (pg.Client.prototype as unknown as { query: TQueryFn }).query = original;
    }
    expect(result.together).toHaveLength(100);
    console.log(`a batch of 100 completions: ${statements} statements`);
    // Lanes 1, received 1, BEGIN, account locks, the facts (providers, kept states, bookings), the
    // platform's currencies, providers, bookings, payouts, audit, events, outbox, outcomes, COMMIT,
    // the look for waiting deliveries, let go, publish 2: 18 (one at a time: 18 each after the store).
    expect(statements).toBeLessThanOrEqual(20);
  });
});
