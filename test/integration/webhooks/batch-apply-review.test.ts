// Issue 13: the adversarial review of the batched booking.completed applies (54d9b2a). Each test is
// an attack that succeeded on that commit (both failed there) and names the defect it shows.
import { randomUUID } from "node:crypto";

import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { WebhookEvent } from "@/generated/prisma/client";
import { db } from "@/lib/db";
import { applyBatch } from "@/lib/ingest/apply-batch";
import { applyInOrder, laneKeyOf } from "@/lib/ingest/apply-in-order";
import type { TWebhookDeps } from "@/lib/webhooks/types";
import { bookingCompletedEvent, storeBookingEvent, type TBookingEvent, tipCreatedEvent } from "@/test/support/booking-webhook";
import { startEngineHarness, type TEngineHarness } from "@/test/support/engine";
import { knowPlatformCurrencies } from "@/test/support/factories";

let h: TEngineHarness;
let deps: TWebhookDeps;

beforeAll(async () => {
  h = await startEngineHarness();
  deps = { db, stripe: () => h.stripe };
  await knowPlatformCurrencies(["USD", "EUR"]);
});
afterAll(async () => {
  await h.fake.stop();
});

/** Stores a delivery as the route does, without applying it. */
const store = (event: TBookingEvent) => storeBookingEvent(event, deps);

describe("review defect 1: a batch's queued lanes are not renewed, and drainHeldLane does not check it still holds the lane", () => {
  it("a lane taken over (its lease ran out while the batch was busy) is not applied by the batch as well", async () => {
    const ns = `l${randomUUID().slice(0, 6)}X`;
    // Lane A: a plain completion (the batch's transaction runs). Lane B: a tip before its booking (drained one by one).
    const plain = await store(bookingCompletedEvent({ bookingId: `${ns}bk_a`, providerId: `${ns}prov_a`, stripeAccountId: `acct_${ns}a` }));
    const tipEvent = tipCreatedEvent({ bookingId: `${ns}bk_b`, amount: 500, tippedAt: new Date() });
    const tip = await store({ ...tipEvent, data: { ...tipEvent.data, tipId: `tip_${ns}` } });
    const laneB = laneKeyOf(tip);
    const otherToken = randomUUID();

    // While the batch is in its transaction (in production: the transaction, then lanes drained one
    // after another for more than LANE_LEASE_MS with nobody renewing lane B's lease), lane B's lease
    // runs out and another server (the sweep, the lane's next delivery) takes it over, as acquireLane does.
    type TQueryFn = (...args: unknown[]) => unknown;
    const original = pg.Client.prototype.query as unknown as TQueryFn;
    let fired = false;
    const takeOver = async () => {
      const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await client.connect();
      try {
        await client.query(`UPDATE "IngestLane" SET "leasedUntil" = now() - interval '1 second' WHERE "key" = $1`, [laneB]);
        await client.query(
          `UPDATE "IngestLane" SET "token" = $2::uuid, "acquiredAt" = now(), "dirty" = false,
             "leasedUntil" = now() + interval '5 minutes' WHERE "key" = $1 AND "leasedUntil" < now()`,
          [laneB, otherToken],
        );
      } finally {
        await client.end();
      }
    };
    (pg.Client.prototype as unknown as { query: TQueryFn }).query = function (this: pg.Client, ...args: unknown[]) {
      const text = typeof args[0] === "string" ? args[0] : (args[0] as { text?: string } | undefined)?.text;
      if (!fired && typeof text === "string" && text.includes("pg_advisory_xact_lock")) {
        fired = true;
        (pg.Client.prototype as unknown as { query: TQueryFn }).query = original;
        return takeOver().then(() => original.apply(this, args));
      }
      return original.apply(this, args);
    };
    let result;
    try {
      result = await applyBatch(deps, [plain, tip]);
    } finally {
      (pg.Client.prototype as unknown as { query: TQueryFn }).query = original;
    }
    expect(fired).toBe(true);
    expect(result.together).toEqual([plain.id]);
    // Lane B belongs to the other server now: the batch must leave its delivery to it.
    const lane = await db.ingestLane.findUnique({ where: { key: laneB } });
    expect(lane?.token).toBe(otherToken);
    expect(result.oneByOne).not.toContain(tip.id);
    expect((await db.webhookEvent.findUniqueOrThrow({ where: { id: tip.id } })).status).toBe("received");
    await db.ingestLane.delete({ where: { key: laneB } });
  });
});

describe("review defect 2: a delivery the set-based path leaves still changes the providers the later plain ones are judged against", () => {
  it("two new providers naming one account: the account goes to the first in arrival order, as one at a time", async () => {
    const run = async (ns: string, batch: boolean) => {
      const acct = `acct_${ns}shared`;
      const events = [
        // Left by the set-based path (GBP without a charge: held and alerted), but it records provider R with the account.
        bookingCompletedEvent({ bookingId: `${ns}bk_r`, providerId: `${ns}prov_r`, stripeAccountId: acct, currency: "GBP" }),
        // Plain on its own: a new provider P naming the same account.
        bookingCompletedEvent({ bookingId: `${ns}bk_p`, providerId: `${ns}prov_p`, stripeAccountId: acct }),
      ];
      const stored: WebhookEvent[] = [];
      for (const e of events) stored.push(await store(e));
      if (batch) await applyBatch(deps, stored);
      else for (const d of stored) await applyInOrder(deps, laneKeyOf(d));
      const owner = await db.provider.findUnique({ where: { stripeAccountId: acct } });
      const statuses = await Promise.all(
        stored.map(async (d) => (await db.webhookEvent.findUniqueOrThrow({ where: { id: d.id } })).status),
      );
      return { owner: owner?.externalId.replace(ns, "NS") ?? null, statuses };
    };
    const oneByOne = await run(`o${randomUUID().slice(0, 6)}X`, false);
    const batched = await run(`b${randomUUID().slice(0, 6)}X`, true);
    expect(oneByOne.owner).toBe("NSprov_r");
    expect(batched).toEqual(oneByOne);
  });
});
