import { createHmac, randomUUID } from "node:crypto";

import { deliveryApplied, query, signInAs } from "./support";
import { expect, test } from "./test";

// scripts/e2e.mjs starts the server with this secret.
const SECRET = "whsec_booking_e2e_secret";
const ORIGIN = `http://127.0.0.1:${process.env.E2E_PORT ?? 3100}`;

function signed(body: unknown) {
  const raw = JSON.stringify(body);
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac("sha256", SECRET).update(`${t}.${raw}`).digest("hex");
  return { data: raw, headers: { "content-type": "application/json", "payouts-signature": `t=${t},v1=${v1}` } };
}

/** A booking.completed delivery stored by a process that died before applying it. */
async function insertUnappliedDelivery(tag: string): Promise<{ id: string; bookingId: string }> {
  const at = new Date(Date.now() - 60 * 60 * 1000).toISOString();
  const bookingId = `bk_e2e_${tag}`;
  const payload = {
    id: `evt_e2e_${tag}`,
    type: "booking.completed",
    createdAt: at,
    data: {
      bookingId,
      completedAt: at,
      currency: "USD",
      providerShare: 4_200,
      provider: { id: `prov_e2e_${tag}`, name: "E2E Provider", email: `e2e-${tag}@example.test` },
    },
  };
  const rows = await query<{ id: string }>(
    `INSERT INTO "WebhookEvent" (source, "externalId", type, payload, "bookingExternalId", status, error, "applyAttempts")
     VALUES ('booking_platform', $1, 'booking.completed', $2::jsonb, $3, 'failed', 'process died', 1) RETURNING id`,
    [payload.id, JSON.stringify(payload), bookingId],
  );
  return { id: rows[0]!.id, bookingId };
}

test("webhook deliveries API: signed delivery, listing for any role, re-drive for operators only", async ({ page, request }) => {
  const tag = randomUUID().slice(0, 8);

  await test.step("the booking webhook takes a signed delivery and refuses an unsigned one", async () => {
    const tip = {
      id: `evt_e2e_tip_${tag}`,
      type: "tip.created",
      createdAt: new Date().toISOString(),
      data: { tipId: `tip_${tag}`, bookingId: `bk_none_${tag}`, amount: 500, currency: "USD", createdAt: new Date().toISOString() },
    };
    const ok = await request.post("/api/webhooks/booking", signed(tip));
    expect(ok.status()).toBe(200);
    expect(await ok.json()).toEqual({ received: true });
    // Answered once stored; applied right after: a tip for a booking not known yet waits.
    expect(await deliveryApplied("booking_platform", tip.id)).toBe("deferred");
    const unsigned = await request.post("/api/webhooks/booking", {
      data: JSON.stringify(tip),
      headers: { "content-type": "application/json" },
    });
    expect(unsigned.status()).toBe(401);
  });

  const stored = await insertUnappliedDelivery(tag);

  await test.step("without a session the API answers 401", async () => {
    expect((await request.get("/api/admin/webhook-deliveries")).status()).toBe(401);
    expect((await request.post(`/api/admin/webhook-deliveries/${stored.id}/redrive`, { headers: { origin: ORIGIN } })).status()).toBe(401);
  });

  await test.step("a viewer lists and reads deliveries but may not re-drive", async () => {
    await signInAs(page, "viewer");
    const list = await page.request.get("/api/admin/webhook-deliveries?status=failed&source=booking_platform&limit=100");
    expect(list.status()).toBe(200);
    const { items } = (await list.json()) as { items: { id: string; status: string; error: string | null }[] };
    expect(items).toContainEqual(expect.objectContaining({ id: stored.id, status: "failed", error: "process died" }));
    const deferred = await page.request.get(`/api/admin/webhook-deliveries?status=deferred&type=tip.created`);
    expect(((await deferred.json()) as { items: { externalId: string }[] }).items).toContainEqual(
      expect.objectContaining({ externalId: `evt_e2e_tip_${tag}` }),
    );
    const one = await page.request.get(`/api/admin/webhook-deliveries/${stored.id}`);
    expect(await one.json()).toMatchObject({
      id: stored.id,
      payload: { type: "booking.completed", data: { bookingId: stored.bookingId } },
    });
    const denied = await page.request.post(`/api/admin/webhook-deliveries/${stored.id}/redrive`, {
      headers: { origin: ORIGIN },
      failOnStatusCode: false,
    });
    expect(denied.status()).toBe(403);
  });

  await test.step("an operator re-drives it: applied, audited; a cross-site request and a second re-drive are refused", async () => {
    await page.context().clearCookies();
    const operator = await signInAs(page, "operator");
    const crossSite = await page.request.post(`/api/admin/webhook-deliveries/${stored.id}/redrive`, {
      headers: { origin: "https://evil.example" },
      failOnStatusCode: false,
    });
    expect(crossSite.status()).toBe(403);

    const res = await page.request.post(`/api/admin/webhook-deliveries/${stored.id}/redrive`, { headers: { origin: ORIGIN } });
    expect(res.status()).toBe(200);
    expect(await res.json()).toMatchObject({ outcome: { status: "processed" }, delivery: { id: stored.id, status: "processed" } });
    const payouts = await query<{ amount: number; status: string }>(
      `SELECT p.amount, p.status::text FROM "Payout" p JOIN "Booking" b ON b.id = p."bookingId" WHERE b."externalId" = $1`,
      [stored.bookingId],
    );
    expect(payouts).toEqual([{ amount: 4_200, status: "scheduled" }]);
    const audit = await query<{ actorLabel: string }>(
      `SELECT "actorLabel" FROM "AuditLog" WHERE action = 'webhook_event.redriven' AND "entityId" = $1`,
      [stored.id],
    );
    expect(audit).toEqual([{ actorLabel: `${operator.name} <${operator.email}>` }]);

    const again = await page.request.post(`/api/admin/webhook-deliveries/${stored.id}/redrive`, {
      headers: { origin: ORIGIN },
      failOnStatusCode: false,
    });
    expect(again.status()).toBe(409);
  });
});
