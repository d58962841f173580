// Issue 13: the statements one webhook delivery sends to PostgreSQL, from the request to the end
// of its apply (what the server pays per delivery, counted by wrapping pg's Client#query). Not
// a timing: the counts are the same on any machine. The budgets are the counts after issue 13's
// cuts (33 and 30 before them); a change that adds a round trip to the hot path says why here.
import { randomUUID } from "node:crypto";

import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { db } from "@/lib/db";

import { bookingCompletedEvent, sendBookingEvent, type TBookingEvent, tipCreatedEvent } from "../../support/booking-webhook";
import { startEngineHarness, type TEngineHarness } from "../../support/engine";

type TQueryFn = (...args: unknown[]) => unknown;
const sent: string[] = [];
let counting = false;
const originalQuery = pg.Client.prototype.query as unknown as TQueryFn;

beforeAll(() => {
  (pg.Client.prototype as unknown as { query: TQueryFn }).query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === "string" ? first : (first as { text?: string } | undefined)?.text;
    if (counting && text) sent.push(text.replace(/\s+/g, " ").slice(0, 140));
    return originalQuery.apply(this, args);
  };
});

afterAll(() => {
  (pg.Client.prototype as unknown as { query: TQueryFn }).query = originalQuery;
});

let h: TEngineHarness;
beforeAll(async () => {
  h = await startEngineHarness();
});
afterAll(async () => {
  await h.fake.stop();
});

async function statementsOf(event: TBookingEvent): Promise<string[]> {
  sent.length = 0;
  counting = true;
  try {
    const { status } = await sendBookingEvent(event);
    expect(status).toBe(200);
  } finally {
    counting = false;
  }
  return [...sent];
}

describe("round trips per delivery (store + apply + publish)", () => {
  it("booking.completed of a new booking, a tip on it, and a re-sent delivery", async () => {
    // Warm up: the first delivery of a process reads what it caches (engine state, rules).
    await statementsOf(
      bookingCompletedEvent({ bookingId: `bk_${randomUUID()}`, providerId: `prov_${randomUUID()}`, stripeAccountId: h.fake.addAccount() }),
    );

    const bookingId = `bk_${randomUUID()}`;
    const completed = bookingCompletedEvent({ bookingId, providerId: `prov_${randomUUID()}`, stripeAccountId: h.fake.addAccount() });
    const onCompleted = await statementsOf(completed);
    const onTip = await statementsOf(tipCreatedEvent({ bookingId, amount: 1_500 }));
    const onResent = await statementsOf(completed);
    console.log(
      [
        `booking.completed: ${onCompleted.length}`,
        ...onCompleted,
        "",
        `tip.created: ${onTip.length}`,
        ...onTip,
        "",
        `re-sent: ${onResent.length}`,
        ...onResent,
      ].join("\n"),
    );

    expect(await db.payout.findFirst({ where: { booking: { externalId: bookingId } } })).toMatchObject({
      amount: 9_500,
      status: "scheduled",
    });
    // 18 + 1 since issue 14's outbound webhooks: the new payout's payout.scheduled event for the
    // booking platform, one insert in the same transaction (no endpoint here: nothing after it).
    expect(onCompleted.length).toBeLessThanOrEqual(19);
    // A tip joining a scheduled payout is recorded by the batch path (record-plain-tips.ts): 25 before it.
    expect(onTip.length).toBeLessThanOrEqual(17);
    expect(onResent.length).toBeLessThanOrEqual(2);
  });
});
