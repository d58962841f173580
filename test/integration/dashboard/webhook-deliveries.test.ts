// Stored deliveries after the request: the admin API that lists them and re-drives one, and
// the reconciliation sweep that re-applies what a crash, a busy payout or an unreachable
// Inngest left behind. The session is stubbed here (sign-in and roles over HTTP are
// covered by e2e); the route handlers, services and database are real.
import { randomUUID } from "node:crypto";

import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import { POST as redrive } from "@/app/api/admin/webhook-deliveries/[id]/redrive/route";
import { GET as getDelivery } from "@/app/api/admin/webhook-deliveries/[id]/route";
import { GET as listDeliveries } from "@/app/api/admin/webhook-deliveries/route";
import { POST as bookingWebhook } from "@/app/api/webhooks/booking/route";
import type { AdminRole } from "@/generated/prisma/enums";
import { db } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { STALE_DELIVERY_MS } from "@/lib/ingest/reapply-stale-deliveries";
import { claimTransfer } from "@/lib/payouts/transfer-claim";
import { signBookingWebhook } from "@/lib/webhooks/booking-signature";
import { REDRIVABLE_STATUSES } from "@/lib/webhooks/list-deliveries-filter";
import { storeDelivery } from "@/lib/webhooks/store-delivery";

import { settleAfterTasks } from "../../support/after-tasks";
import { HOUR, startEngineHarness, type TEngineHarness } from "../../support/engine";

const auth = vi.hoisted(() => ({ user: null as { id: string; email: string; name: string; role: AdminRole } | null }));

vi.mock("@/lib/auth/session", async () => {
  const { ForbiddenError, UnauthorizedError } = await import("@/lib/errors");
  const { hasRole } = await import("@/lib/auth/roles");
  return {
    requireApiUser: async (required: AdminRole = "viewer") => {
      if (!auth.user) throw new UnauthorizedError();
      if (!hasRole(auth.user.role, required)) throw new ForbiddenError(`This action needs the ${required} role.`);
      return auth.user;
    },
  };
});

const ORIGIN = "http://localhost";
let h: TEngineHarness;
const users = {} as Record<AdminRole, { id: string; email: string; name: string; role: AdminRole }>;

beforeAll(async () => {
  h = await startEngineHarness();
  for (const role of ["viewer", "operator", "admin"] as const) {
    const user = await db.adminUser.create({ data: { email: `${role}@payouts.test`, name: `Test ${role}`, role, passwordHash: "x" } });
    users[role] = { id: user.id, email: user.email, name: user.name, role };
  }
});

afterAll(async () => {
  await h.fake.stop();
});

beforeEach(() => {
  h.clock.set(new Date());
  auth.user = users.viewer;
  globalThis.inngestReceiver.setDown(false);
});

let seq = 0;
const uid = (prefix: string) => `${prefix}_${Date.now().toString(36)}${(seq++).toString(36)}`;

function completed(bookingId: string, completedAt: Date, stripeAccountId: string) {
  return {
    id: uid("evt"),
    type: "booking.completed",
    createdAt: completedAt.toISOString(),
    data: {
      bookingId,
      completedAt: completedAt.toISOString(),
      currency: "USD",
      providerShare: 8_000,
      provider: { id: `prov_${bookingId}`, name: "Redrive Provider", email: `${bookingId}@example.test`, stripeAccountId },
    },
  };
}

function tip(bookingId: string, at: Date, amount = 700) {
  return {
    id: uid("evt"),
    type: "tip.created",
    createdAt: at.toISOString(),
    data: { tipId: uid("tip"), bookingId, amount, currency: "USD", createdAt: at.toISOString() },
  };
}

function disputeOpened(bookingId: string, disputeId: string, at: Date) {
  return {
    id: uid("evt"),
    type: "dispute.opened",
    createdAt: at.toISOString(),
    data: { disputeId, bookingId, reason: "not as described", openedAt: at.toISOString(), scope: "booking" },
  };
}

function disputeResolved(bookingId: string, disputeId: string, at: Date, refundedAmount: number) {
  return {
    id: uid("evt"),
    type: "dispute.resolved",
    createdAt: at.toISOString(),
    data: { disputeId, bookingId, resolvedAt: at.toISOString(), outcome: "partial", refundedAmount },
  };
}

async function deliver(body: { id: string }) {
  const raw = JSON.stringify(body);
  const response = await bookingWebhook(
    new Request(`${ORIGIN}/api/webhooks/booking`, {
      method: "POST",
      headers: { "content-type": "application/json", "payouts-signature": signBookingWebhook(raw, getEnv().BOOKING_WEBHOOK_SECRETS) },
      body: raw,
    }),
    undefined,
  );
  await settleAfterTasks();
  expect(response.status).toBe(200);
  return db.webhookEvent.findUniqueOrThrow({ where: { source_externalId: { source: "booking_platform", externalId: body.id } } });
}

/** A booking completed long enough ago that its payout is due, with a ready Stripe account. */
async function dueBooking() {
  const bookingId = uid("bk");
  const stripeAccountId = h.account();
  const completedAt = new Date(h.clock.now().getTime() - 49 * HOUR);
  await deliver(completed(bookingId, completedAt, stripeAccountId));
  await db.provider.update({ where: { stripeAccountId }, data: { payoutsEnabled: true } });
  const booking = await db.booking.findUniqueOrThrow({ where: { externalId: bookingId }, include: { payout: true } });
  return { bookingId, completedAt, booking, payout: booking.payout! };
}

async function callRedrive(id: string, headers: Record<string, string> = { origin: ORIGIN }, body?: string) {
  const response = await redrive(new Request(`${ORIGIN}/api/admin/webhook-deliveries/${id}/redrive`, { method: "POST", headers, body }), {
    params: Promise.resolve({ id }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function callList(query: string) {
  const response = await listDeliveries(new Request(`${ORIGIN}/api/admin/webhook-deliveries?${query}`), undefined);
  return {
    status: response.status,
    json: (await response.json()) as {
      items: { id: string; status: string; error: string | null; note: string | null }[];
      nextCursor: string | null;
      prevCursor: string | null;
    },
  };
}

describe("GET /api/admin/webhook-deliveries", () => {
  it("lists deliveries newest first with filters and keyset pagination over (receivedAt, id)", async () => {
    // Twelve deliveries sharing two timestamps, so the id breaks ties.
    const type = `test.listing.${randomUUID().slice(0, 8)}`;
    const at = [new Date("2031-01-01T00:00:00.000Z"), new Date("2031-01-02T00:00:00.000Z")];
    await db.webhookEvent.createMany({
      data: Array.from({ length: 12 }, (_, i) => ({
        source: i % 3 === 0 ? ("stripe" as const) : ("booking_platform" as const),
        externalId: `${type}_${i}`,
        type,
        payload: { n: i },
        status: i % 2 === 0 ? ("failed" as const) : ("processed" as const),
        error: i % 2 === 0 ? "boom" : "a note",
        receivedAt: at[i % 2]!,
      })),
    });
    const expected = await db.webhookEvent.findMany({
      where: { type },
      orderBy: [{ receivedAt: "desc" }, { id: "desc" }],
      select: { id: true },
    });

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await callList(`type=${type}&limit=5${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.status).toBe(200);
      seen.push(...page.json.items.map((i) => i.id));
      cursor = page.json.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(expected.map((e) => e.id));
    // `prevCursor` (as `before`) leads back to the newer page.
    const first = await callList(`type=${type}&limit=5`);
    expect(first.json.prevCursor).toBeNull();
    const second = await callList(`type=${type}&limit=5&after=${first.json.nextCursor}`);
    expect(second.json.items.map((i) => i.id)).toEqual(seen.slice(5, 10));
    const back = await callList(`type=${type}&limit=5&before=${second.json.prevCursor}`);
    expect(back.json.items.map((i) => i.id)).toEqual(seen.slice(0, 5));

    const failedStripe = await callList(`type=${type}&status=failed&source=stripe`);
    expect(failedStripe.json.items.map((i) => i.id).sort()).toEqual(
      (await db.webhookEvent.findMany({ where: { type, status: "failed", source: "stripe" } })).map((e) => e.id).sort(),
    );
    expect(failedStripe.json.items).toHaveLength(2);
    // A processed delivery's text is a note, a failed one's an error.
    const all = await callList(`type=${type}&limit=100`);
    expect(all.json.items.find((i) => i.status === "processed")).toMatchObject({ error: null, note: "a note" });
    expect(all.json.items.find((i) => i.status === "failed")).toMatchObject({ error: "boom", note: null });
    expect(all.json.items[0]).not.toHaveProperty("payload");
    // Empty parameters are no filter.
    expect((await callList(`type=${type}&status=&source=&cursor=`)).json.items).toHaveLength(12);
  });

  it("refuses bad filters with 400 and needs a session", async () => {
    const position = `2031-01-01T00:00:00.000Z_${randomUUID()}`;
    for (const query of [
      "status=bogus",
      "source=paypal",
      "limit=0",
      "limit=1000",
      "cursor=nope",
      "cursor=2031-02-30T00:00:00.000Z_00000000-0000-4000-8000-000000000001",
      `cursor=${position}&before=${position}`,
      "unknown=1",
    ]) {
      const res = await callList(query);
      expect(res.status, query).toBe(400);
      expect(res.json).toMatchObject({ error: { code: "validation_failed" } });
    }
    auth.user = null;
    expect((await callList("")).status).toBe(401);
  });
});

describe("GET /api/admin/webhook-deliveries/:id", () => {
  it("returns the delivery with its payload; 404 for an unknown or malformed id", async () => {
    const body = tip(uid("bk_unknown"), new Date());
    const delivery = await deliver(body);
    const get = (id: string) =>
      getDelivery(new Request(`${ORIGIN}/api/admin/webhook-deliveries/${id}`), { params: Promise.resolve({ id }) });
    const res = await get(delivery.id);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      id: delivery.id,
      source: "booking_platform",
      status: "deferred",
      externalId: body.id,
      payload: body,
    });
    expect((await get(randomUUID())).status).toBe(404);
    expect((await get("not-a-uuid")).status).toBe(404);
  });
});

describe("a dispute's refund while the transfer is in flight (payout busy)", () => {
  // (A tip in that window is accepted and waits for the transfer: engine-tip-during-transfer.test.ts;
  // a cancellation is recorded on the booking at once: simulation-findings/cancelled-while-retry-waits.)
  it("is kept as failed with the reason, re-tried by the sweep, and applied by an operator's re-drive once the payout settles", async () => {
    const { bookingId, completedAt, payout } = await dueBooking();
    const claimed = await claimTransfer({ ...h.ctx(), runId: "run_that_dies" }, { payoutId: payout.id });
    expect(claimed.kind).toBe("claimed");

    const disputeId = uid("dsp");
    expect((await deliver(disputeOpened(bookingId, disputeId, new Date(completedAt.getTime() + HOUR)))).status).toBe("processed");
    const body = disputeResolved(bookingId, disputeId, new Date(completedAt.getTime() + 2 * HOUR), 1_000);
    const busy = await deliver(body);
    expect(busy.status).toBe("failed");
    expect(busy.error).toMatch(/^payout_busy: /);
    expect(busy.applyAttempts).toBe(1);

    // Two hours on, the sweep re-tries the resolution (still busy), then settles the stuck payout
    // (no transfer at Stripe): it goes back to scheduled (its next claim re-checks the open dispute).
    h.clock.advance(2 * HOUR);
    const sweep = await h.run("reconcile", null);
    expect(sweep.error).toBeUndefined();
    expect(sweep.result).toMatchObject({ deliveries: { reapplied: 1, failed: 1 } });
    expect(await db.webhookEvent.findUniqueOrThrow({ where: { id: busy.id } })).toMatchObject({ status: "failed", applyAttempts: 2 });
    expect(await db.payout.findUniqueOrThrow({ where: { id: payout.id } })).toMatchObject({ status: "scheduled", amount: 8_000 });

    // Permissions first: no session 401, a viewer 403, a cross-site request 403; nothing applied.
    auth.user = null;
    expect((await callRedrive(busy.id)).status).toBe(401);
    auth.user = users.viewer;
    expect((await callRedrive(busy.id)).status).toBe(403);
    auth.user = users.operator;
    expect((await callRedrive(busy.id, {})).status).toBe(403);
    expect((await callRedrive(busy.id, { origin: "https://evil.example" })).status).toBe(403);
    // A malformed body is a 400, before anything is applied.
    for (const body of ['{"reason": "x"}', '{"why": "because"}', "not json"]) {
      expect((await callRedrive(busy.id, { origin: ORIGIN, "content-type": "application/json" }, body)).status, body).toBe(400);
    }
    expect(await db.webhookEvent.findUniqueOrThrow({ where: { id: busy.id } })).toMatchObject({ status: "failed", applyAttempts: 2 });

    const res = await callRedrive(
      busy.id,
      { origin: ORIGIN, "content-type": "application/json" },
      JSON.stringify({ reason: "Transfer settled; apply the resolution" }),
    );
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      outcome: { status: "processed" },
      delivery: { id: busy.id, status: "processed", applyAttempts: 3, payload: body },
    });
    expect(await db.payout.findUniqueOrThrow({ where: { id: payout.id } })).toMatchObject({
      status: "scheduled",
      refundedAmount: 1_000,
      amount: 7_000,
    });
    const audit = await db.auditLog.findFirstOrThrow({ where: { entityType: "webhook_event", entityId: busy.id } });
    expect(audit).toMatchObject({
      action: "webhook_event.redriven",
      actorType: "admin",
      actorId: users.operator.id,
      actorLabel: "Test operator <operator@payouts.test>",
      reason: "Transfer settled; apply the resolution",
    });
    expect(audit.before).toMatchObject({ status: "failed" });
    expect(audit.after).toMatchObject({ status: "processed" });
    // The resolution's event went out under the delivery's id.
    expect(globalThis.inngestReceiver.events()).toContainEqual(expect.objectContaining({ id: busy.id, name: "dispute/resolved" }));

    // Processed now: a second re-drive is refused, nothing changes.
    const again = await callRedrive(busy.id);
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ error: { code: "conflict" } });
    expect((await callRedrive(randomUUID())).status).toBe(404);
  });
});

describe("which deliveries can be re-driven", () => {
  it("the API re-drives exactly the statuses the Webhooks page offers the button for", async () => {
    auth.user = users.operator;
    const statuses = ["received", "processed", "deferred", "ignored", "failed"] as const;
    for (const status of statuses) {
      // A tip for a booking that never arrived: applying it defers it again, harmlessly.
      const body = tip(uid("bk_none"), h.clock.now());
      const { delivery } = await storeDelivery(db, {
        source: "booking_platform",
        externalId: body.id,
        type: body.type,
        payload: body,
        bookingExternalId: body.data.bookingId,
      });
      // A `received` one as a crash leaves it: untouched for longer than its lane's turn could take.
      const receivedAt = new Date(h.clock.now().getTime() - STALE_DELIVERY_MS - 1_000);
      await db.webhookEvent.update({ where: { id: delivery.id }, data: { status, receivedAt } });
      const answer = await callRedrive(delivery.id);
      expect({ status, answer: answer.status }).toEqual({ status, answer: REDRIVABLE_STATUSES.includes(status) ? 200 : 409 });
      if (answer.status === 200) expect(answer.json).toMatchObject({ delivery: { status: "deferred" } });
    }
    expect([...REDRIVABLE_STATUSES].sort()).toEqual(["deferred", "failed", "received"]);
  });

  it("a delivery received moments ago is waiting its turn in its lane: 409 saying so, nothing applied beside the lane", async () => {
    auth.user = users.operator;
    const body = tip(uid("bk_none"), h.clock.now());
    const { delivery } = await storeDelivery(db, {
      source: "booking_platform",
      externalId: body.id,
      type: body.type,
      payload: body,
      bookingExternalId: body.data.bookingId,
      receivedAt: h.clock.now(),
    });
    const answer = await callRedrive(delivery.id);
    expect(answer.status).toBe(409);
    expect(JSON.stringify(answer.json)).toContain("waiting its turn");
    expect(await db.webhookEvent.findUniqueOrThrow({ where: { id: delivery.id } })).toMatchObject({ status: "received", applyAttempts: 0 });
    await db.webhookEvent.delete({ where: { id: delivery.id } }); // not for the sweep tests below
  });
});

describe("the reconciliation sweep", () => {
  it("applies a delivery a crash left `received`, and sends its event under the delivery's id", async () => {
    const bookingId = uid("bk_crash");
    const body = completed(bookingId, new Date(h.clock.now().getTime() - HOUR), h.account());
    // Stored, then the process died before applying it.
    const { delivery } = await storeDelivery(db, {
      source: "booking_platform",
      externalId: body.id,
      type: body.type,
      payload: body,
      bookingExternalId: bookingId,
    });
    const early = await h.run("reconcile", null);
    expect(early.result).toMatchObject({ deliveries: { reapplied: 0 } }); // possibly still in flight

    h.clock.advance(6 * 60 * 1000);
    const run = await h.run("reconcile", null);
    expect(run.result).toMatchObject({ deliveries: { reapplied: 1, processed: 1 } });
    expect(await db.webhookEvent.findUniqueOrThrow({ where: { id: delivery.id } })).toMatchObject({
      status: "processed",
      applyAttempts: 1,
    });
    expect(await db.booking.findUniqueOrThrow({ where: { externalId: bookingId }, include: { payout: true } })).toMatchObject({
      payout: { status: "scheduled" },
    });
    expect(globalThis.inngestReceiver.events()).toContainEqual(expect.objectContaining({ id: delivery.id, name: "booking/completed" }));
  });

  it("gives up re-applying a failing delivery after 5 attempts (a re-drive can still apply it)", async () => {
    const body = completed(uid("bk_stuck"), new Date(), h.account());
    const { delivery } = await storeDelivery(db, {
      source: "booking_platform",
      externalId: body.id,
      type: body.type,
      payload: body,
      bookingExternalId: body.data.bookingId,
    });
    await db.webhookEvent.update({ where: { id: delivery.id }, data: { status: "failed", error: "earlier failure", applyAttempts: 5 } });
    h.clock.advance(HOUR);
    await h.run("reconcile", null);
    expect(await db.webhookEvent.findUniqueOrThrow({ where: { id: delivery.id } })).toMatchObject({ status: "failed", applyAttempts: 5 });
  });

  it("with Inngest unreachable at delivery time, the payout is still paid when due", async () => {
    globalThis.inngestReceiver.setDown(true);
    const bookingId = uid("bk_offline");
    const stripeAccountId = h.account();
    const delivery = await deliver(completed(bookingId, h.clock.now(), stripeAccountId));
    expect(delivery.status).toBe("processed");
    expect(await db.outboxEvent.findUniqueOrThrow({ where: { eventId: delivery.id } })).toMatchObject({ sentAt: null });
    await db.provider.update({ where: { stripeAccountId }, data: { payoutsEnabled: true } });

    globalThis.inngestReceiver.setDown(false);
    h.clock.advance(48 * HOUR + 60_000);
    await h.run("reconcile", null);
    expect((await db.outboxEvent.findUniqueOrThrow({ where: { eventId: delivery.id } })).sentAt).not.toBeNull();
    expect(globalThis.inngestReceiver.events()).toContainEqual(expect.objectContaining({ id: delivery.id, name: "booking/completed" }));

    const payout = await db.payout.findFirstOrThrow({ where: { booking: { externalId: bookingId } } });
    const requested = globalThis.inngestReceiver
      .events()
      .filter((e) => e.name === "payout/transfer.requested" && e.data.payoutId === payout.id);
    expect(requested.length).toBeGreaterThanOrEqual(1);
    for (const event of requested) await h.run("transfer", { name: event.name, data: event.data });
    expect(await db.payout.findUniqueOrThrow({ where: { id: payout.id } })).toMatchObject({ status: "transferred" });
    expect(h.fake.transfers().filter((t) => t.metadata?.payoutId === payout.id)).toMatchObject([{ amount: 8_000 }]);
  });
});
