// POST /api/webhooks/booking: signature, input validation, persist-first storage, applying
// through the engine's services, duplicates, business outcomes and arrival order. The route
// handler is called directly with a Request against the file's own database.
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import { POST } from "@/app/api/webhooks/booking/route";
import { db } from "@/lib/db";
import { getEnv, resetEnvForTests } from "@/lib/env";
import { signBookingWebhook } from "@/lib/webhooks/booking-signature";

import { settleAfterTasks } from "../../support/after-tasks";

const OLD_SECRET = "whsec_booking_old_rotating_1";
const NEW_SECRET = "whsec_booking_new_rotating_2";
const URL_ = "http://localhost/api/webhooks/booking";
const HOUR = 60 * 60 * 1000;

beforeAll(() => {
  // Two configured secrets, as during a rotation.
  process.env.BOOKING_WEBHOOK_SECRETS = `${OLD_SECRET}, ${NEW_SECRET}`;
  resetEnvForTests();
  expect(getEnv().BOOKING_WEBHOOK_SECRETS).toEqual([OLD_SECRET, NEW_SECRET]);
});

beforeEach(() => {
  globalThis.inngestReceiver.setDown(false);
});

afterEach(() => {
  vi.useRealTimers();
});

let seq = 0;
const uid = (prefix: string) => `${prefix}_${Date.now().toString(36)}${(seq++).toString(36)}`;
const nowSeconds = () => Math.floor(Date.now() / 1000);

type TBody = { id: string; type: string; createdAt: string; data: Record<string, unknown> };

function completedEvent(bookingId: string, data: Record<string, unknown> = {}, completedAt = new Date(Date.now() - HOUR)): TBody {
  const key = bookingId.replace(/[^A-Za-z0-9]/g, "");
  return {
    id: uid("evt"),
    type: "booking.completed",
    createdAt: completedAt.toISOString(),
    data: {
      bookingId,
      completedAt: completedAt.toISOString(),
      currency: "USD",
      providerShare: 10_000,
      chargeId: `ch_${key}`,
      provider: { id: `prov_${key}`, name: "Pat Provider", email: `pat-${key}@example.test`, stripeAccountId: `acct_${key}` },
      ...data,
    },
  };
}

function tipEvent(bookingId: string, data: Record<string, unknown> = {}, at = new Date(Date.now() - HOUR / 2)): TBody {
  return {
    id: uid("evt"),
    type: "tip.created",
    createdAt: at.toISOString(),
    data: { tipId: uid("tip"), bookingId, amount: 1_500, currency: "USD", createdAt: at.toISOString(), ...data },
  };
}

function disputeOpenedEvent(bookingId: string, disputeId: string): TBody {
  const at = new Date(Date.now() - HOUR / 4).toISOString();
  return {
    id: uid("evt"),
    type: "dispute.opened",
    createdAt: at,
    data: { disputeId, bookingId, reason: "service not as described", openedAt: at, scope: "booking" },
  };
}

function disputeResolvedEvent(bookingId: string, disputeId: string, data: Record<string, unknown> = {}): TBody {
  const at = new Date(Date.now() - HOUR / 8).toISOString();
  return {
    id: uid("evt"),
    type: "dispute.resolved",
    createdAt: at,
    data: { disputeId, bookingId, resolvedAt: at, outcome: "partial", refundedAmount: 2_500, ...data },
  };
}

type TSendOptions = {
  /** Sign these bytes instead of the body sent. */
  signed?: string;
  secret?: string | string[];
  timestamp?: number;
  /** The whole header; null sends none. */
  header?: string | null;
  contentType?: string;
  headers?: Record<string, string>;
};

function webhookRequest(body: TBody | string | Uint8Array<ArrayBuffer>, options: TSendOptions = {}): Request {
  const raw = typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
  const header =
    options.header === undefined
      ? signBookingWebhook(options.signed ?? raw, options.secret ?? NEW_SECRET, options.timestamp ?? nowSeconds())
      : options.header;
  const headers: Record<string, string> = { "content-type": options.contentType ?? "application/json", ...options.headers };
  if (header !== null) headers["payouts-signature"] = header;
  return new Request(URL_, { method: "POST", headers, body: raw });
}

async function send(
  body: TBody | string | Uint8Array<ArrayBuffer>,
  options: TSendOptions = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await POST(webhookRequest(body, options), undefined);
  await settleAfterTasks();
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function rowCounts() {
  const [deliveries, providers, bookings, tips, disputes, payouts, audit, outbox] = await Promise.all([
    db.webhookEvent.count(),
    db.provider.count(),
    db.booking.count(),
    db.tip.count(),
    db.dispute.count(),
    db.payout.count(),
    db.auditLog.count(),
    db.outboxEvent.count(),
  ]);
  return { deliveries, providers, bookings, tips, disputes, payouts, audit, outbox };
}

/** Runs `fn` and checks that it wrote nothing at all. */
async function expectNothingWritten(fn: () => Promise<void>) {
  const before = await rowCounts();
  await fn();
  expect(await rowCounts()).toEqual(before);
}

async function deliveryOf(body: TBody) {
  return db.webhookEvent.findUniqueOrThrow({ where: { source_externalId: { source: "booking_platform", externalId: body.id } } });
}

async function payoutFor(bookingExternalId: string) {
  const booking = await db.booking.findUniqueOrThrow({ where: { externalId: bookingExternalId }, include: { payout: true } });
  return booking.payout;
}

describe("signature", () => {
  it("accepts a correctly signed delivery, stores it and answers { received: true }", async () => {
    const body = completedEvent(uid("bk"));
    const res = await send(body);
    expect(res).toEqual({ status: 200, json: { received: true } });
    expect(await deliveryOf(body)).toMatchObject({
      source: "booking_platform",
      type: "booking.completed",
      status: "processed",
      error: null,
      applyAttempts: 1,
    });
  });

  it("refuses one changed body byte with 401 and writes nothing", async () => {
    const body = completedEvent(uid("bk"));
    const raw = JSON.stringify(body);
    const tampered = raw.replace('"providerShare":10000', '"providerShare":90000');
    expect(tampered).not.toBe(raw);
    expect(tampered.length).toBe(raw.length);
    await expectNothingWritten(async () => {
      const res = await send(tampered, { signed: raw });
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ error: { code: "invalid_signature" } });
    });
  });

  it("refuses signatures from 301 s ago and 301 s ahead with 401 and writes nothing; accepts 299 s ago", async () => {
    // The clock is frozen so that no second boundary passes between signing and checking.
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2031-05-01T12:00:00.400Z") });
    const t = nowSeconds();
    await expectNothingWritten(async () => {
      for (const timestamp of [t - 301, t + 301]) {
        const res = await send(completedEvent(uid("bk")), { timestamp });
        expect(res.status).toBe(401);
        expect(res.json).toMatchObject({ error: { code: "invalid_signature", message: expect.stringContaining("300 seconds") } });
      }
    });
    expect((await send(completedEvent(uid("bk")), { timestamp: t - 299 })).status).toBe(200);
    expect((await send(completedEvent(uid("bk")), { timestamp: t + 299 })).status).toBe(200);
    expect((await send(completedEvent(uid("bk")), { timestamp: t - 300 })).status).toBe(200);
  });

  it("refuses a signature made with a wrong secret with 401 and writes nothing", async () => {
    await expectNothingWritten(async () => {
      expect((await send(completedEvent(uid("bk")), { secret: "whsec_not_our_secret" })).status).toBe(401);
    });
  });

  it("refuses a signature over re-serialised JSON with 401 and writes nothing", async () => {
    const body = completedEvent(uid("bk"));
    // The sender signed its compact bytes; what arrives is the same JSON, re-serialised.
    const reserialised = JSON.stringify(body, null, 2);
    expect(JSON.parse(reserialised)).toEqual(body);
    await expectNothingWritten(async () => {
      expect((await send(reserialised, { signed: JSON.stringify(body) })).status).toBe(401);
    });
  });

  it("refuses a missing or malformed header with 401 and writes nothing", async () => {
    const body = completedEvent(uid("bk"));
    const good = signBookingWebhook(JSON.stringify(body), NEW_SECRET);
    const t = nowSeconds();
    await expectNothingWritten(async () => {
      for (const header of [
        null,
        "",
        "garbage",
        `t=${t}`,
        good.replace(/^t=\d+,/, ""),
        good.replace(/v1=([0-9a-f]{64})/, "v1=$1ab"),
        good.replace(/v1=([0-9a-f]{64})/, "v1=xyz"),
        `t=abc,v1=${"0".repeat(64)}`,
        `${good},t=${t}`,
      ]) {
        const res = await send(body, { header });
        expect(res.status, `header ${String(header)}`).toBe(401);
      }
    });
  });

  it("accepts two v1 values when the second matches, and either configured secret", async () => {
    const body = completedEvent(uid("bk"));
    const raw = JSON.stringify(body);
    const t = nowSeconds();
    const wrong = signBookingWebhook(raw, "whsec_retired_secret_0", t).split(",")[1];
    const right = signBookingWebhook(raw, NEW_SECRET, t).split(",")[1];
    expect((await send(body, { header: `t=${t},${wrong},${right}` })).status).toBe(200);

    // Still signed with the old secret during the rotation; and a sender signing with both.
    expect((await send(completedEvent(uid("bk")), { secret: OLD_SECRET })).status).toBe(200);
    expect((await send(completedEvent(uid("bk")), { secret: ["whsec_retired_secret_0", OLD_SECRET] })).status).toBe(200);
  });
});

describe("bad input", () => {
  type TIssue = { path: string; message: string };
  const issuesOf = (json: Record<string, unknown>) => (json.error as { details: { issues: TIssue[] } }).details.issues;

  it("malformed JSON: 400 with the parse error, nothing written", async () => {
    await expectNothingWritten(async () => {
      const res = await send('{"id": "evt_1", "type": ');
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ error: { code: "validation_failed", message: "The body is not valid JSON." } });
      expect(issuesOf(res.json)).toEqual([{ path: "", message: expect.stringContaining("invalid JSON") }]);
    });
  });

  it("a missing field: 400 naming it, nothing written", async () => {
    const body = completedEvent(uid("bk"));
    delete body.data.currency;
    await expectNothingWritten(async () => {
      const res = await send(body);
      expect(res.status).toBe(400);
      expect(issuesOf(res.json)).toEqual([{ path: "data.currency", message: "is required" }]);
    });
  });

  it("negative and fractional amounts: 400 naming the field, nothing written", async () => {
    await expectNothingWritten(async () => {
      const negative = await send(completedEvent(uid("bk"), { providerShare: -1 }));
      expect(negative.status).toBe(400);
      expect(issuesOf(negative.json)).toEqual([{ path: "data.providerShare", message: "must not be negative" }]);

      const fractional = await send(tipEvent(uid("bk"), { amount: 12.5 }));
      expect(fractional.status).toBe(400);
      expect(issuesOf(fractional.json)).toEqual([{ path: "data.amount", message: "must be an integer number of minor units" }]);

      const zeroTip = await send(tipEvent(uid("bk"), { amount: 0 }));
      expect(zeroTip.status).toBe(400);
      expect(issuesOf(zeroTip.json)).toEqual([{ path: "data.amount", message: "a tip must be more than zero" }]);

      const refund = await send(disputeResolvedEvent(uid("bk"), uid("dsp"), { refundedAmount: -5 }));
      expect(refund.status).toBe(400);
      expect(issuesOf(refund.json)[0]).toMatchObject({ path: "data.refundedAmount" });
    });
  });

  it("an unknown type: 400 listing the known types, nothing written", async () => {
    await expectNothingWritten(async () => {
      const res = await send({ ...completedEvent(uid("bk")), type: "booking.teleported" });
      expect(res.status).toBe(400);
      expect(issuesOf(res.json)).toEqual([{ path: "type", message: expect.stringContaining("booking.completed") }]);
    });
  });

  it("other schema violations: 400 with every field error, nothing written", async () => {
    const body = completedEvent(uid("bk"), { currency: "dollars", completedAt: "yesterday", surprise: true });
    await expectNothingWritten(async () => {
      const res = await send(body);
      expect(res.status).toBe(400);
      expect(
        issuesOf(res.json)
          .map((i) => i.path)
          .sort(),
      ).toEqual(["data", "data.completedAt", "data.currency"]);

      for (const raw of ["null", "[]", '"text"', "42"]) {
        const r = await send(raw);
        expect(r.status, raw).toBe(400);
      }
      const notUtf8 = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
      expect((await send(notUtf8)).status).toBe(400);

      const providerWonWithRefund = await send(
        disputeResolvedEvent(uid("bk"), uid("dsp"), { outcome: "provider_won", refundedAmount: 100 }),
      );
      expect(providerWonWithRefund.status).toBe(400);
      expect(issuesOf(providerWonWithRefund.json)).toEqual([{ path: "data.refundedAmount", message: "must be 0 when the provider won" }]);
    });
  });

  it("300 KB: 413 before hashing or parsing (streamed or declared), nothing written; exactly 256 KB is accepted", async () => {
    const body = completedEvent(uid("bk"));
    const json = JSON.stringify(body);
    const padded = (size: number) => json.slice(0, -1) + " ".repeat(size - json.length) + "}";
    const big = padded(300 * 1024);
    await expectNothingWritten(async () => {
      // Not signed at all, not JSON-typed: the size is checked first.
      const streamed = await send(big, { header: null, contentType: "text/plain" });
      expect(streamed.status).toBe(413);
      expect(streamed.json).toMatchObject({ error: { code: "payload_too_large" } });
      // Declared by Content-Length: refused without reading.
      const declared = await POST(
        new Request(URL_, {
          method: "POST",
          headers: { "content-type": "application/json", "content-length": String(300 * 1024) },
          body: "{}",
        }),
        undefined,
      );
      await settleAfterTasks();
      expect(declared.status).toBe(413);
      // A Content-Length that lies low does not help: the limit holds while reading.
      expect((await send(big, { headers: { "content-length": "10" } })).status).toBe(413);
      expect((await send(padded(256 * 1024 + 1))).status).toBe(413);
    });
    expect((await send(padded(256 * 1024))).status).toBe(200);
  });

  it("text/plain: 415, nothing written; application/json with a charset is fine", async () => {
    await expectNothingWritten(async () => {
      const res = await send(completedEvent(uid("bk")), { contentType: "text/plain" });
      expect(res.status).toBe(415);
      expect(res.json).toMatchObject({ error: { code: "unsupported_media_type" } });
      expect((await send(completedEvent(uid("bk")), { contentType: "application/x-www-form-urlencoded" })).status).toBe(415);
    });
    expect((await send(completedEvent(uid("bk")), { contentType: "application/json; charset=utf-8" })).status).toBe(200);
  });
});

describe("persist first, then act", () => {
  it("booking.completed: stored, applied through the engine, audited as the booking platform, event sent with the delivery's id", async () => {
    const bookingId = uid("bk");
    const body = completedEvent(bookingId);
    expect((await send(body)).status).toBe(200);

    const delivery = await deliveryOf(body);
    expect(delivery).toMatchObject({ type: "booking.completed", bookingExternalId: bookingId, status: "processed", payload: body });
    expect(delivery.processedAt).not.toBeNull();
    const booking = await db.booking.findUniqueOrThrow({ where: { externalId: bookingId }, include: { payout: true, provider: true } });
    expect(booking).toMatchObject({ providerShare: 10_000, currency: "USD", completedAt: new Date(body.data.completedAt as string) });
    expect(booking.provider).toMatchObject({ externalId: `prov_${bookingId.replace(/_/g, "")}`, name: "Pat Provider" });
    expect(booking.payout).toMatchObject({ status: "scheduled", amount: 10_000 });

    const audit = await db.auditLog.findFirstOrThrow({ where: { entityId: booking.id, action: "booking.completed" } });
    expect(audit).toMatchObject({
      actorType: "webhook",
      actorId: "booking-platform",
      actorLabel: "Booking platform",
      requestId: `webhook:${delivery.id}`,
    });

    const outbox = await db.outboxEvent.findUniqueOrThrow({ where: { eventId: delivery.id } });
    expect(outbox).toMatchObject({ name: "booking/completed", data: { bookingId: booking.id } });
    expect(outbox.sentAt).not.toBeNull();
    expect(globalThis.inngestReceiver.events()).toContainEqual(
      expect.objectContaining({ id: delivery.id, name: "booking/completed", data: { bookingId: booking.id } }),
    );
  });

  it("a repeated delivery id: 200 duplicate, nothing changes", async () => {
    const body = completedEvent(uid("bk"));
    expect(await send(body)).toEqual({ status: 200, json: { received: true } });
    await expectNothingWritten(async () => {
      expect(await send(body)).toEqual({ status: 200, json: { received: true, duplicate: true } });
      // Same id, other content: still the delivery we already hold.
      expect(await send({ ...body, data: { ...body.data, providerShare: 1 } })).toEqual({
        status: 200,
        json: { received: true, duplicate: true },
      });
    });
    expect((await deliveryOf(body)).applyAttempts).toBe(1);
  });

  it("the same booking completed under a new delivery id: processed, nothing changes twice", async () => {
    const bookingId = uid("bk");
    await send(completedEvent(bookingId));
    const again = completedEvent(bookingId);
    expect((await send(again)).status).toBe(200);
    expect(await deliveryOf(again)).toMatchObject({ status: "processed", error: "booking already recorded as completed; nothing changed" });
    expect(await db.payout.count({ where: { booking: { externalId: bookingId } } })).toBe(1);
  });

  it("booking.cancelled cancels the payout", async () => {
    const bookingId = uid("bk");
    await send(completedEvent(bookingId));
    const cancel: TBody = {
      id: uid("evt"),
      type: "booking.cancelled",
      createdAt: new Date().toISOString(),
      data: { bookingId, cancelledAt: new Date().toISOString(), reason: "customer no-show" },
    };
    expect((await send(cancel)).status).toBe(200);
    expect(await deliveryOf(cancel)).toMatchObject({ status: "processed" });
    expect(await payoutFor(bookingId)).toMatchObject({ status: "cancelled", cancelReason: "booking cancelled" });
  });

  it("a booking recorded with another currency under the same id: 200, the delivery is kept as failed with the conflict", async () => {
    const bookingId = uid("bk");
    await send(completedEvent(bookingId));
    const conflicting = completedEvent(bookingId, { currency: "EUR" });
    expect(await send(conflicting)).toEqual({ status: 200, json: { received: true } });
    const delivery = await deliveryOf(conflicting);
    expect(delivery.status).toBe("failed");
    expect(delivery.error).toMatch(/^conflict: Booking .* another provider or currency/);
  });

  it("with Inngest unreachable: still 200, the delivery applied, its event waiting in the outbox", async () => {
    globalThis.inngestReceiver.setDown(true);
    const body = completedEvent(uid("bk"));
    expect(await send(body)).toEqual({ status: 200, json: { received: true } });
    const delivery = await deliveryOf(body);
    expect(delivery.status).toBe("processed");
    const waiting = await db.outboxEvent.findUniqueOrThrow({ where: { eventId: delivery.id } });
    expect(waiting.sentAt).toBeNull();
    expect(waiting.lastError).toBeTruthy();
  });
});

describe("business outcomes: accepted with 200, recorded with the reason, audited, visible", () => {
  it("a tip after the 24 h window", async () => {
    const bookingId = uid("bk");
    const completedAt = new Date(Date.now() - 30 * HOUR);
    await send(completedEvent(bookingId, {}, completedAt));
    const late = tipEvent(bookingId, {}, new Date(completedAt.getTime() + 25 * HOUR));
    expect(await send(late)).toEqual({ status: 200, json: { received: true } });

    const delivery = await deliveryOf(late);
    expect(delivery.status).toBe("processed");
    expect(delivery.error).toMatch(/^tip rejected: tip received after the 24-hour window/);
    const tip = await db.tip.findUniqueOrThrow({ where: { externalId: late.data.tipId as string } });
    expect(tip).toMatchObject({ status: "rejected", payoutId: null, amount: 1_500 });
    const audit = await db.auditLog.findFirstOrThrow({ where: { entityId: tip.id } });
    expect(audit).toMatchObject({ action: "tip.rejected", actorType: "webhook", actorId: "booking-platform", reason: tip.rejectionReason });
    expect(await payoutFor(bookingId)).toMatchObject({ amount: 10_000, tipAmount: 0 });
    // A rejected tip causes no event.
    expect(await db.outboxEvent.count({ where: { eventId: delivery.id } })).toBe(0);
  });

  it("a tip in another currency than the booking's", async () => {
    const bookingId = uid("bk");
    await send(completedEvent(bookingId));
    const euros = tipEvent(bookingId, { currency: "EUR" });
    expect(await send(euros)).toEqual({ status: 200, json: { received: true } });
    expect((await deliveryOf(euros)).error).toBe("tip rejected: tip currency EUR differs from the booking's USD");
    expect(await db.tip.findUniqueOrThrow({ where: { externalId: euros.data.tipId as string } })).toMatchObject({ status: "rejected" });
    expect(await payoutFor(bookingId)).toMatchObject({ amount: 10_000 });
  });

  it("a tip in the window joins the payout and its event carries the delivery's id", async () => {
    const bookingId = uid("bk");
    await send(completedEvent(bookingId));
    const tip = tipEvent(bookingId);
    await send(tip);
    const delivery = await deliveryOf(tip);
    expect(delivery).toMatchObject({ status: "processed", error: null });
    expect(await payoutFor(bookingId)).toMatchObject({ amount: 11_500, tipAmount: 1_500 });
    expect(globalThis.inngestReceiver.events()).toContainEqual(expect.objectContaining({ id: delivery.id, name: "tip/added" }));
  });
});

describe("order does not matter", () => {
  it("a tip before its booking is deferred, then applied when the booking arrives", async () => {
    const bookingId = uid("bk");
    const tip = tipEvent(bookingId);
    expect(await send(tip)).toEqual({ status: 200, json: { received: true } });
    expect(await deliveryOf(tip)).toMatchObject({ status: "deferred", error: `waiting for booking.completed of booking ${bookingId}` });
    expect(await db.booking.count({ where: { externalId: bookingId } })).toBe(0);

    await send(completedEvent(bookingId));
    expect(await deliveryOf(tip)).toMatchObject({ status: "processed", error: null });
    expect(await payoutFor(bookingId)).toMatchObject({ status: "scheduled", amount: 11_500 });
    // The deferred tip's event is sent with its own delivery's id.
    const tipDelivery = await deliveryOf(tip);
    expect(globalThis.inngestReceiver.events()).toContainEqual(expect.objectContaining({ id: tipDelivery.id, name: "tip/added" }));
  });

  it("a cancellation before its booking: the booking ends cancelled", async () => {
    const bookingId = uid("bk");
    const cancel: TBody = {
      id: uid("evt"),
      type: "booking.cancelled",
      createdAt: new Date().toISOString(),
      data: { bookingId, cancelledAt: new Date().toISOString(), reason: "duplicate booking" },
    };
    await send(cancel);
    expect((await deliveryOf(cancel)).status).toBe("deferred");
    await send(completedEvent(bookingId));
    expect((await deliveryOf(cancel)).status).toBe("processed");
    expect(await payoutFor(bookingId)).toMatchObject({ status: "cancelled" });
  });

  const permutations = <T>(items: T[]): T[][] =>
    items.length <= 1
      ? [items]
      : items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));

  it("all 24 orders of completed, tip, dispute opened and resolved end in the same payout", async () => {
    const kinds = ["completed", "tip", "opened", "resolved"] as const;
    const orders = permutations([...kinds]);
    expect(orders).toHaveLength(24);

    const results: Record<string, unknown>[] = [];
    for (const order of orders) {
      const bookingId = uid("bk");
      const disputeId = uid("dsp");
      const events: Record<(typeof kinds)[number], TBody> = {
        completed: completedEvent(bookingId),
        tip: tipEvent(bookingId),
        opened: disputeOpenedEvent(bookingId, disputeId),
        resolved: disputeResolvedEvent(bookingId, disputeId),
      };
      for (const kind of order) {
        expect(await send(events[kind]), `${order.join(" → ")}: ${kind}`).toEqual({ status: 200, json: { received: true } });
      }
      const statuses = await db.webhookEvent.findMany({ where: { bookingExternalId: bookingId }, select: { status: true } });
      expect(
        statuses.map((s) => s.status),
        order.join(" → "),
      ).toEqual(["processed", "processed", "processed", "processed"]);
      const payout = await payoutFor(bookingId);
      const dispute = await db.dispute.findUniqueOrThrow({ where: { externalId: disputeId } });
      results.push({
        order: order.join(" → "),
        status: payout?.status,
        holdReason: payout?.holdReason,
        amount: payout?.amount,
        providerShare: payout?.providerShare,
        tipAmount: payout?.tipAmount,
        refundedAmount: payout?.refundedAmount,
        amountVersion: payout?.amountVersion,
        dispute: [dispute.status, dispute.outcome, dispute.refundedAmount, dispute.refundAppliedAt !== null],
      });
    }
    const expected = {
      status: "scheduled",
      holdReason: null,
      amount: 9_000,
      providerShare: 10_000,
      tipAmount: 1_500,
      refundedAmount: 2_500,
      amountVersion: 3,
      dispute: ["resolved", "partial", 2_500, true],
    };
    for (const result of results) expect(result).toEqual({ order: result.order, ...expected });
  });

  it("all four at once, for 20 bookings in parallel: nothing stays deferred behind what has arrived", async () => {
    const bookings = Array.from({ length: 20 }, () => ({ bookingId: uid("bk"), disputeId: uid("dsp") }));
    const sends = bookings.flatMap(({ bookingId, disputeId }) => [
      disputeResolvedEvent(bookingId, disputeId),
      tipEvent(bookingId),
      disputeOpenedEvent(bookingId, disputeId),
      completedEvent(bookingId),
    ]);
    const responses = await Promise.all(sends.map((body) => send(body)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    for (const { bookingId } of bookings) {
      const statuses = await db.webhookEvent.findMany({ where: { bookingExternalId: bookingId }, select: { status: true, error: true } });
      expect(statuses, bookingId).toEqual(Array.from({ length: 4 }, () => ({ status: "processed", error: null })));
      expect(await payoutFor(bookingId)).toMatchObject({ status: "scheduled", amount: 9_000, tipAmount: 1_500, refundedAmount: 2_500 });
    }
  });
});
