// Issue 14, part 2: outbound webhooks to the booking platform. A local HTTP receiver verifies
// every delivery with the `standardwebhooks` package, as a platform would; the events come from
// the real code paths (the booking webhook, admin actions through their route, the engine's
// transfer against the fake Stripe, Stripe's webhooks); retries run through the engine's function
// with the clock moved, and the answers are logged.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { InngestTestEngine } from "@inngest/test";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import { POST as payoutAction } from "@/app/api/admin/payouts/[id]/actions/route";
import { POST as resendRoute } from "@/app/api/admin/platform-webhook-deliveries/[id]/resend/route";
import { POST as rotateRoute } from "@/app/api/admin/platform-webhooks/[id]/rotate-secret/route";
import { PATCH as updateRoute } from "@/app/api/admin/platform-webhooks/[id]/route";
import { GET as listRoute, POST as createRoute } from "@/app/api/admin/platform-webhooks/route";
import { createDeliverPlatformWebhooksFunction } from "@/inngest/functions/deliver-platform-webhooks";
import { db } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { RETRY_WINDOW_MS } from "@/lib/platform-webhooks/backoff";
import { deliverPlatformWebhooks } from "@/lib/platform-webhooks/deliver-platform-webhooks";
import { generateWebhookSecret } from "@/lib/platform-webhooks/signature";

import { settleAfterTasks } from "../../support/after-tasks";
import { bookingCompletedEvent, sendBookingEvent } from "../../support/booking-webhook";
import { HOUR, payoutOf, transferEvent } from "../../support/engine";
import { dashboardUsers, signInAs } from "../../support/sessions";
import { stripeEvent } from "../../support/stripe-fixtures";
import { appEngineHarness, sendProcessed } from "../../support/stripe-webhook";

vi.mock("next-auth", async (importOriginal) => ({ ...(await importOriginal<typeof import("next-auth")>()), getServerSession: vi.fn() }));

const h = appEngineHarness();
const users = dashboardUsers("platform-hooks");
const ORIGIN = "http://localhost";

// ── The platform's receiver: verifies each delivery with its endpoint's secret(s) ──────────────
type TReceived = { path: string; headers: IncomingHttpHeaders; body: string; verified: boolean; payload: TPayload | null };
type TPayload = { type: string; timestamp: string; data: Record<string, unknown> & { sequence: number } };
type TAnswer = { status: number; body?: string } | "hang";

let server: Server;
let base = "";
const received: TReceived[] = [];
/** Each path's secret(s) the receiver verifies with, and its answers to come (then 204). */
const secrets = new Map<string, string[]>();
const answers = new Map<string, TAnswer[]>();
let slowMs = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const path = req.url ?? "/";
      const verify = (secret: string) => {
        try {
          return new Webhook(secret).verify(body, req.headers as Record<string, string>) as TPayload;
        } catch {
          return null;
        }
      };
      const payloads = (secrets.get(path) ?? []).map(verify);
      const payload = payloads.find((p) => p !== null) ?? null;
      received.push({ path, headers: req.headers, body, verified: payload !== null && payloads.every((p) => p !== null), payload });
      const answer = answers.get(path)?.shift() ?? { status: 204 };
      if (answer === "hang") return; // never answers: the sender's timeout
      setTimeout(() => res.writeHead(answer.status, { "content-type": "text/plain" }).end(answer.body ?? ""), slowMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(async () => {
  received.length = 0;
  answers.clear();
  slowMs = 0;
  // Each test's endpoints only: earlier ones receive nothing more.
  await db.platformWebhookEndpoint.updateMany({ data: { enabled: false } });
});

// ── Helpers ────────────────────────────────────────────────────────────────────────────────────
const json = (body: unknown, method = "POST") =>
  new Request(`${ORIGIN}/api/admin/x`, {
    method,
    headers: { origin: ORIGIN, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
const params = (id?: string) => ({ params: Promise.resolve(id ? { id } : {}) });

/** An endpoint added by an admin through the route; the receiver verifies with the secret it answered once. */
async function addEndpoint(extra: Record<string, unknown> = {}) {
  const path = `/hooks/${randomUUID()}`;
  signInAs(users.admin);
  const response = await createRoute(json({ url: `${base}${path}`, ...extra }), params());
  expect(response.status).toBe(201);
  const { endpoint, secret } = (await response.json()) as { endpoint: { id: string }; secret: string };
  secrets.set(path, [secret]);
  return { id: endpoint.id, path, secret };
}

async function act(payoutId: string, action: string, role: "operator" | "admin" = "operator") {
  signInAs(users[role]);
  const { version } = await db.payout.findUniqueOrThrow({ where: { id: payoutId } });
  const response = await payoutAction(json({ action, reason: `test ${action}`, expectedVersion: version }), params(payoutId));
  expect(response.status).toBe(200);
  await settleAfterTasks();
}

/** A booking completed through the booking webhook (its provider's account ready at the fake Stripe and in our record). */
async function completedBooking(input: { providerShare?: number } = {}) {
  const stripeAccountId = h.account();
  const externalId = `bk_${randomUUID()}`;
  const event = bookingCompletedEvent({ bookingId: externalId, providerId: `prov_${randomUUID()}`, stripeAccountId, ...input });
  expect((await sendBookingEvent(event)).status).toBe(200);
  await h.readyProvider(stripeAccountId);
  const booking = await db.booking.findUniqueOrThrow({ where: { externalId } });
  return { booking, stripeAccountId, payout: await payoutOf(booking.id) };
}

const receivedAt = (path: string) => received.filter((r) => r.path === path);
const typesAt = (path: string) => receivedAt(path).map((r) => r.payload?.type);

function deliverFn(options: { now?: () => Date; timeoutMs?: number } = {}) {
  return new InngestTestEngine({ function: createDeliverPlatformWebhooksFunction(h.deps, options) });
}

// ── Tests ──────────────────────────────────────────────────────────────────────────────────────
describe("events from the real code paths, signed per Standard Webhooks", () => {
  it("schedule, hold, release, transfer, reverse: each delivered right after its change, verified, in sequence, with the payout's fields", async () => {
    const { path } = await addEndpoint();
    const { booking, stripeAccountId, payout } = await completedBooking();
    expect(typesAt(path)).toEqual(["payout.scheduled"]); // the booking webhook's apply, right after its commit

    await act(payout.id, "hold");
    await act(payout.id, "release");
    expect(typesAt(path)).toEqual(["payout.scheduled", "payout.held", "payout.released"]);

    h.clock.set(new Date(Date.now() + 49 * HOUR));
    expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });
    const [transfer] = h.transfersFor(payout.id);
    expect(typesAt(path).at(-1)).toBe("payout.transferred"); // in the engine's step, after its commit

    await h.stripe.transfers.createReversal(transfer!.id, { amount: 3_000 });
    await sendProcessed(stripeEvent({ type: "transfer.reversed", object: await h.stripe.transfers.retrieve(transfer!.id) }));
    expect(typesAt(path)).toEqual(["payout.scheduled", "payout.held", "payout.released", "payout.transferred", "payout.reversed"]);

    const mine = receivedAt(path);
    expect(mine.every((r) => r.verified)).toBe(true);
    expect(mine.map((r) => r.payload!.data.sequence)).toEqual([1, 2, 3, 4, 5]);
    expect(mine.map((r) => r.headers["webhook-id"])).toEqual(
      (await db.platformWebhookEvent.findMany({ where: { subjectId: payout.id }, orderBy: { sequence: "asc" } })).map((e) => `msg_${e.id}`),
    );
    expect(mine[3]!.payload).toMatchObject({
      type: "payout.transferred",
      data: {
        payoutId: payout.id,
        bookingId: booking.externalId,
        providerId: expect.stringMatching(/^prov_/),
        status: "transferred",
        previousStatus: "processing",
        currency: "USD",
        amount: 8_000,
        providerShare: 8_000,
        tipAmount: 0,
        refundedAmount: 0,
        reversedAmount: 0,
        sequence: 4,
        stripe: { accountId: stripeAccountId, transferId: transfer!.id, transferIds: [transfer!.id] },
      },
    });
    expect(mine[4]!.payload!.data).toMatchObject({ status: "partially_reversed", reversedAmount: 3_000, amount: 8_000 });
    expect(mine[1]!.payload!.data).toMatchObject({ status: "on_hold", holdReason: "admin_hold" });

    // Logged: one attempt each, the receiver's answer.
    const log = await db.platformWebhookDelivery.findMany({ where: { event: { subjectId: payout.id } }, include: { log: true } });
    expect(log).toHaveLength(5);
    expect(log.every((d) => d.status === "succeeded" && d.log.length === 1 && d.log[0]!.statusCode === 204)).toBe(true);
  });

  it("cancel and failed through their paths; a provider's failed bank payout; an endpoint's event filter", async () => {
    const { path } = await addEndpoint();
    const filtered = await addEndpoint({ eventTypes: ["payout.failed", "provider.bank_payout_failed"] });

    const cancelled = await completedBooking();
    await act(cancelled.payout.id, "cancel", "admin");
    expect(typesAt(path)).toEqual(["payout.scheduled", "payout.cancelled"]);

    const failing = await completedBooking();
    h.clock.set(new Date(Date.now() + 49 * HOUR));
    h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "status", status: 400 });
    await h.run("transfer", transferEvent(failing.payout.id));
    expect(await payoutOf(failing.booking.id)).toMatchObject({ status: "failed" });
    expect(typesAt(path).slice(-1)).toEqual(["payout.failed"]);
    expect(receivedAt(path).at(-1)!.payload!.data).toMatchObject({ payoutId: failing.payout.id, status: "failed", sequence: 2 });

    // The provider's bank payout fails (Connect's payout.failed on their account).
    const paid = await completedBooking();
    expect((await h.run("transfer", transferEvent(paid.payout.id))).result).toMatchObject({ kind: "transferred" });
    const bankPayout = h.fake.payoutAccount(paid.stripeAccountId, { status: "failed", failureCode: "account_closed" });
    await sendProcessed(
      stripeEvent({
        type: "payout.failed",
        object: bankPayout,
        account: paid.stripeAccountId,
        created: Math.floor(h.clock.now().getTime() / 1000),
      }),
    );
    const bankEvent = receivedAt(path).at(-1)!;
    expect(bankEvent.verified).toBe(true);
    expect(bankEvent.payload).toMatchObject({
      type: "provider.bank_payout_failed",
      data: {
        sequence: 1,
        providerId: expect.stringMatching(/^prov_/),
        amount: bankPayout.amount,
        currency: "USD",
        failureCode: "account_closed",
        payoutIds: [paid.payout.id],
        stripe: { accountId: paid.stripeAccountId, payoutId: bankPayout.id },
      },
    });

    expect(typesAt(filtered.path)).toEqual(["payout.failed", "provider.bank_payout_failed"]);
    expect(receivedAt(filtered.path).every((r) => r.verified)).toBe(true);
  });

  it("a tampered body and a wrong secret are refused by the platform's library", async () => {
    const { path, secret } = await addEndpoint();
    await completedBooking();
    const [delivery] = receivedAt(path);
    const headers = delivery!.headers as Record<string, string>;
    expect(() => new Webhook(secret).verify(delivery!.body, headers)).not.toThrow();
    expect(() => new Webhook(secret).verify(delivery!.body.replace('"amount":8000', '"amount":9000'), headers)).toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(delivery!.body, headers)).toThrow();
  });
});

describe("secrets", () => {
  it("rotation: both secrets sign during the grace period, then only the new one; each shown once, audited", async () => {
    const { id, path, secret: oldSecret } = await addEndpoint();
    signInAs(users.admin);
    const rotated = await rotateRoute(json({ graceHours: 24, reason: "yearly rotation" }), params(id));
    expect(rotated.status).toBe(200);
    const { secret: newSecret } = (await rotated.json()) as { secret: string };
    secrets.set(path, [oldSecret, newSecret]);

    await completedBooking();
    const during = receivedAt(path).at(-1)!;
    expect(String(during.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(during.verified).toBe(true); // with each of the two, separately

    signInAs(users.admin);
    expect((await rotateRoute(json({ graceHours: 0 }), params(id))).status).toBe(200);
    await completedBooking();
    const after = receivedAt(path).at(-1)!;
    expect(String(after.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    expect(() => new Webhook(oldSecret).verify(after.body, after.headers as Record<string, string>)).toThrow();
    expect(() => new Webhook(newSecret).verify(after.body, after.headers as Record<string, string>)).toThrow(); // rotated again

    // The list never shows a secret.
    signInAs(users.viewer);
    const listed = await (await listRoute(new Request(`${ORIGIN}/api/admin/platform-webhooks`), params())).text();
    expect(listed).not.toContain(newSecret.slice(6));
    expect(listed).not.toContain(oldSecret.slice(6));
    const audit = await db.auditLog.findMany({ where: { entityId: id }, orderBy: { createdAt: "asc" } });
    expect(audit.map((a) => a.action)).toEqual([
      "platform_webhook.endpoint_created",
      "platform_webhook.secret_rotated",
      "platform_webhook.secret_rotated",
    ]);
    expect(JSON.stringify(audit)).not.toContain(newSecret.slice(6));
  });

  it("endpoint input: http(s) URLs only (400), admin only (403 for an operator), disabled endpoints receive nothing", async () => {
    signInAs(users.admin);
    for (const url of ["ftp://example.test/hook", "javascript:alert(1)", "not a url", "https://user:pw@example.test/"]) {
      expect((await createRoute(json({ url }), params())).status).toBe(400);
    }
    expect((await createRoute(json({ url: "https://example.test/", eventTypes: ["payout.nope"] }), params())).status).toBe(400);
    signInAs(users.operator);
    expect((await createRoute(json({ url: "https://example.test/" }), params())).status).toBe(403);

    const { id, path } = await addEndpoint();
    signInAs(users.admin);
    expect((await updateRoute(json({ enabled: false, reason: "platform migrating" }, "PATCH"), params(id))).status).toBe(200);
    await completedBooking();
    expect(receivedAt(path)).toEqual([]);
  });
});

describe("retries through the engine", () => {
  it("a 500 and a timeout are logged and retried with exponential backoff; a 2xx ends it", async () => {
    const { path } = await addEndpoint();
    answers.set(path, [{ status: 500, body: `oops ${"x".repeat(5_000)}` }, "hang"]);
    const { payout } = await completedBooking();
    const delivery = await db.platformWebhookDelivery.findFirstOrThrow({
      where: { event: { subjectId: payout.id } },
      include: { log: true },
    });
    expect(delivery).toMatchObject({ status: "pending", attempts: 1, lastStatus: 500 });
    expect(delivery.log[0]).toMatchObject({ number: 1, statusCode: 500, error: "HTTP 500", manual: false });
    expect(delivery.log[0]!.responseBody).toMatch(/^oops x+$/);
    expect(delivery.log[0]!.responseBody!.length).toBe(2_000); // capped
    const first = delivery.nextAttemptAt!.getTime() - delivery.log[0]!.startedAt.getTime();
    expect(first).toBeGreaterThan(8_000);
    expect(first).toBeLessThan(12_000);

    // Not due yet: the engine's run sends nothing.
    await deliverFn().execute();
    expect(receivedAt(path)).toHaveLength(1);

    // Due: it hangs; the attempt gives up after its timeout and the next waits about 4× longer.
    const at2 = new Date(delivery.nextAttemptAt!.getTime() + 1);
    await deliverFn({ now: () => at2, timeoutMs: 300 }).execute();
    const second = await db.platformWebhookDelivery.findUniqueOrThrow({
      where: { id: delivery.id },
      include: { log: { orderBy: { number: "asc" } } },
    });
    expect(second.log[1]).toMatchObject({ number: 2, statusCode: null, error: "No answer within 300 ms" });
    const gap = second.nextAttemptAt!.getTime() - at2.getTime();
    expect(gap).toBeGreaterThan(35_000);
    expect(gap).toBeLessThan(45_000);

    const at3 = new Date(second.nextAttemptAt!.getTime() + 1);
    expect((await deliverFn({ now: () => at3 }).execute()).result).toMatchObject({ attempted: 1, succeeded: 1 });
    expect(await db.platformWebhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } })).toMatchObject({
      status: "succeeded",
      attempts: 3,
      nextAttemptAt: null,
    });
    const bodies = new Set(receivedAt(path).map((r) => r.body));
    expect(bodies.size).toBe(1); // the same bytes, the same webhook-id on every attempt
    expect(new Set(receivedAt(path).map((r) => r.headers["webhook-id"])).size).toBe(1);
  });

  it("gives up after 3 days of failures; an admin's re-send then delivers it (audited); later events of the payout waited their turn", async () => {
    const { path } = await addEndpoint();
    answers.set(
      path,
      Array.from({ length: 40 }, () => ({ status: 503 })),
    );
    const { payout } = await completedBooking();
    await act(payout.id, "hold"); // sequence 2 waits behind sequence 1 for this endpoint
    expect(typesAt(path)).toEqual(["payout.scheduled"]);

    const first = await db.platformWebhookDelivery.findFirstOrThrow({ where: { event: { subjectId: payout.id, sequence: 1 } } });
    let attempts = 1;
    let lastTry = first.createdAt;
    for (let next = first.nextAttemptAt; next; attempts++) {
      const now = next;
      lastTry = now;
      await deliverPlatformWebhooks({ db, now: () => now });
      next = (await db.platformWebhookDelivery.findUniqueOrThrow({ where: { id: first.id } })).nextAttemptAt;
      expect(attempts).toBeLessThan(20);
    }
    const gaveUp = await db.platformWebhookDelivery.findUniqueOrThrow({
      where: { id: first.id },
      include: { log: { orderBy: { number: "asc" } } },
    });
    expect(gaveUp).toMatchObject({ status: "failed", attempts, lastStatus: 503 });
    expect(gaveUp.log.at(-1)!.startedAt.getTime()).toBeGreaterThanOrEqual(first.createdAt.getTime()); // logged with the real time
    expect(attempts).toBeGreaterThan(8);
    expect(lastTry).toEqual(new Date(first.createdAt.getTime() + RETRY_WINDOW_MS)); // the last try at the 3-day mark
    // The 3-day mark reached, the next event of the payout, which waited its turn, went out in the same run.
    expect(
      typesAt(path)
        .slice(0, -1)
        .every((t) => t === "payout.scheduled"),
    ).toBe(true);
    expect(typesAt(path).at(-1)).toBe("payout.held");
    expect(receivedAt(path)).toHaveLength(attempts + 1);

    answers.set(path, []); // the platform fixed its endpoint
    signInAs(users.operator);
    expect((await resendRoute(json({}), params(first.id))).status).toBe(403);
    signInAs(users.admin);
    const resent = await resendRoute(json({ reason: "platform fixed its endpoint" }), params(first.id));
    expect(resent.status).toBe(200);
    expect(await resent.json()).toMatchObject({ delivered: true, status: "succeeded", attempts: attempts + 1 });
    expect(receivedAt(path).at(-1)).toMatchObject({ verified: true, payload: { type: "payout.scheduled", data: { sequence: 1 } } });
    expect(await db.platformWebhookAttempt.findFirst({ where: { deliveryId: first.id, manual: true } })).toMatchObject({ statusCode: 204 });
    expect(await db.auditLog.findFirst({ where: { action: "platform_webhook.delivery_resent", actorId: users.admin.id } })).toMatchObject({
      reason: "platform fixed its endpoint",
    });
  });

  it("two deliverers at once never send the same attempt", async () => {
    const { path } = await addEndpoint();
    slowMs = 50;
    // Changes made outside a request (no first attempt yet): five payouts, five events due.
    for (let i = 0; i < 5; i++) await h.completeBooking();
    const runs = await Promise.all([1, 2, 3, 4].map(() => deliverPlatformWebhooks({ db })));
    expect(runs.reduce((sum, r) => sum + r.attempted, 0)).toBe(5);
    const ids = receivedAt(path).map((r) => r.headers["webhook-id"]);
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(5); // none twice
    const endpoint = await db.platformWebhookEndpoint.findFirstOrThrow({ where: { url: `${base}${path}` } });
    expect(await db.platformWebhookAttempt.count({ where: { delivery: { endpointId: endpoint.id } } })).toBe(5);
  });
});

describe("the default endpoint from the configuration", () => {
  it("PLATFORM_WEBHOOK_URL and PLATFORM_WEBHOOK_SECRET (two during a rotation) deliver without any dashboard setup", async () => {
    const path = `/config/${randomUUID()}`;
    const [s1, s2] = [generateWebhookSecret(), generateWebhookSecret()];
    const saved = { ...process.env };
    process.env.PLATFORM_WEBHOOK_URL = `${base}${path}`;
    process.env.PLATFORM_WEBHOOK_SECRET = `${s1} ${s2}`;
    resetEnvForTests();
    try {
      secrets.set(path, [s1, s2]);
      const { payout } = await completedBooking();
      expect(receivedAt(path)).toMatchObject([
        { verified: true, payload: { type: "payout.scheduled", data: { payoutId: payout.id, sequence: 1 } } },
      ]);
      expect(await db.platformWebhookEndpoint.findFirst({ where: { source: "config" } })).toMatchObject({
        url: `${base}${path}`,
        enabled: true,
      });
    } finally {
      process.env = saved;
      resetEnvForTests();
    }
    // Without the configuration the endpoint is disabled.
    await deliverPlatformWebhooks({ db });
    expect(await db.platformWebhookEndpoint.findFirst({ where: { source: "config" } })).toMatchObject({ enabled: false });
  });
});
