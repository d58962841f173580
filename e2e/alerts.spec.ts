// Acknowledging alerts: viewers cannot (the UI offers nothing, the API answers 403, nothing
// changes); an operator can, and the page then shows who and when. Amounts in alert texts read
// as money.

import Stripe from "stripe";

import { createAlert, saveScreenshots } from "./fixtures/dashboard-fixtures";
import * as fx from "./fixtures/payout-actions-fixtures";
import { deliveryApplied, demoUser, query, signInAs } from "./support";
import { expect, test } from "./test";
import { stripeEvent, stripeId, stripeObject } from "../test/support/stripe-fixtures";

type TAlertRow = { acknowledgedAt: Date | null; acknowledgedById: string | null };

async function alertRow(id: string): Promise<TAlertRow> {
  const [row] = await query<TAlertRow>(`SELECT "acknowledgedAt", "acknowledgedById" FROM "Alert" WHERE id = $1`, [id]);
  return row!;
}

async function auditCount(id: string): Promise<number> {
  const [row] = await query<{ n: string }>(`SELECT count(*) AS n FROM "AuditLog" WHERE "entityType" = 'alert' AND "entityId" = $1`, [id]);
  return Number(row!.n);
}

test("a viewer cannot acknowledge an alert: no button, the API answers 403, nothing changes", async ({ page, baseURL, playwright }) => {
  const alert = await createAlert();
  await signInAs(page, "viewer");
  await page.goto("/alerts");
  const row = page.getByRole("row").filter({ hasText: alert.title });
  await expect(row).toBeVisible();
  await expect(row.getByText("Open", { exact: true })).toBeVisible();
  await expect(page.getByRole("button", { name: /^Acknowledge/ })).toHaveCount(0);

  const refused = await page.request.post(`/api/admin/alerts/${alert.id}/acknowledge`, {
    headers: { origin: baseURL! },
    data: { note: "viewer try" },
  });
  expect(refused.status()).toBe(403);
  expect(await refused.json()).toMatchObject({ error: { code: "forbidden" } });

  const crossSite = await page.request.post(`/api/admin/alerts/${alert.id}/acknowledge`, {
    headers: { origin: "https://evil.example" },
    data: {},
  });
  expect(crossSite.status()).toBe(403);

  const anonymousContext = await playwright.request.newContext({ baseURL });
  const anonymous = await anonymousContext.post(`/api/admin/alerts/${alert.id}/acknowledge`, { headers: { origin: baseURL! }, data: {} });
  expect(anonymous.status()).toBe(401);
  await anonymousContext.dispose();

  expect(await alertRow(alert.id)).toEqual({ acknowledgedAt: null, acknowledgedById: null });
  expect(await auditCount(alert.id)).toBe(0);
});

test("an operator acknowledges an alert with a note; the page shows who and when", async ({ page }) => {
  const alert = await createAlert({ severity: "critical" });
  await signInAs(page, "operator");
  await page.goto("/alerts");
  await expect(page.getByRole("row").filter({ hasText: alert.title })).toBeVisible();
  await saveScreenshots(page, "alerts");

  await test.step("notifications: off on this server, and the demo alerts' deliveries shown per alert", async () => {
    await expect(page.getByTestId("notifications-off")).toContainText("Notifications are not configured");
    await expect(page.getByRole("row").filter({ hasText: alert.title }).getByText("Not notified")).toBeVisible();
    await expect(page.getByTestId("alert-delivery").first()).toContainText(/Email|Chat/);
  });

  await test.step("acknowledge from the keyboard", async () => {
    const button = page.getByRole("button", { name: `Acknowledge: ${alert.title}`, exact: false });
    await button.focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Acknowledge alert" });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByText(alert.title)).toBeVisible();
    await dialog.getByLabel(/Note/).fill("Checking the Stripe dashboard");
    await dialog.getByRole("button", { name: "Acknowledge" }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByText("Alert acknowledged.")).toBeVisible();
  });

  await test.step("who and when are shown, and stored with an audit entry", async () => {
    const operator = demoUser("operator");
    const row = page.getByRole("row").filter({ hasText: alert.title });
    await expect(row.getByTestId("alert-acknowledged-by")).toHaveText(operator.name);
    await expect(row.getByTestId("alert-acknowledged-at")).toContainText("UTC");
    await expect(row.getByText("Checking the Stripe dashboard")).toBeVisible();
    await expect(row.getByRole("button", { name: /^Acknowledge/ })).toHaveCount(0);

    const [user] = await query<{ id: string }>(`SELECT id FROM "AdminUser" WHERE email = $1`, [operator.email]);
    const stored = await alertRow(alert.id);
    expect(stored.acknowledgedById).toBe(user!.id);
    expect(stored.acknowledgedAt).not.toBeNull();
    const audit = await query<{ actorId: string; action: string; reason: string }>(
      `SELECT "actorId", action, reason FROM "AuditLog" WHERE "entityType" = 'alert' AND "entityId" = $1`,
      [alert.id],
    );
    expect(audit).toEqual([{ actorId: user!.id, action: "alert.acknowledged", reason: "Checking the Stripe dashboard" }]);
  });

  await test.step("acknowledging again is a no-op that answers who was first", async () => {
    const again = await page.request.post(`/api/admin/alerts/${alert.id}/acknowledge`, {
      headers: { origin: new URL(page.url()).origin },
      data: {},
    });
    expect(again.status()).toBe(200);
    expect(await again.json()).toMatchObject({ alreadyAcknowledged: true, alert: { acknowledgedBy: { name: demoUser("operator").name } } });
    expect(await auditCount(alert.id)).toBe(1);
  });

  await test.step("the Overview no longer lists it among open alerts", async () => {
    await page.goto("/");
    await expect(page.getByTestId("newest-alerts")).toBeVisible();
    await expect(page.getByTestId("newest-alerts").getByText(alert.title)).toHaveCount(0);
  });
});

test("an alert raised by the engine prints its amounts as money ($30.00 of $80.00), not minor units", async ({ page, request }) => {
  // A transferred $80.00 payout; someone reverses $30.00 of its transfer in Stripe's dashboard,
  // and Stripe's signed transfer.reversed reaches our webhook: the engine alerts (record-external-reversal).
  const tag = fx.runTag();
  const provider = await fx.insertProvider(tag);
  const transferId = `tr_e2e_${tag}`;
  const payout = await fx.insertPayout(provider, { tag, providerShare: 8_000, status: "transferred", stripeTransferId: transferId });
  await query(
    `INSERT INTO "PayoutTransfer" ("payoutId", kind, "amountVersion", leg, "payoutAmount", amount, currency, status, "idempotencyKey", "stripeTransferId", "transferredAt")
     VALUES ($1, 'payout', 1, 1, 8000, 8000, 'USD', 'succeeded', $2, $3, now())`,
    [payout.id, `payout:${payout.id}:v1`, transferId],
  );
  const created = Math.floor(Date.now() / 1000);
  const reversal = stripeObject("transfer_reversal", {
    id: stripeId("trr_"),
    amount: 3_000,
    currency: "usd",
    transfer: transferId,
    created,
  });
  const transfer = stripeObject("transfer", {
    id: transferId,
    amount: 8_000,
    amount_reversed: 3_000,
    currency: "usd",
    metadata: { payoutId: payout.id },
    reversals: { object: "list", data: [reversal], has_more: false, url: `/v1/transfers/${transferId}/reversals` },
  });
  const event = stripeEvent({ type: "transfer.reversed", object: transfer });
  const payload = JSON.stringify(event);
  const secret = process.env.STRIPE_WEBHOOK_SECRET;
  if (!secret) throw new Error("STRIPE_WEBHOOK_SECRET is not set: run the e2e tests with `npm run test:e2e`.");
  const response = await request.post("/api/webhooks/stripe", {
    headers: { "content-type": "application/json", "stripe-signature": Stripe.webhooks.generateTestHeaderString({ payload, secret }) },
    data: payload,
  });
  expect(response.status(), await response.text()).toBe(200);
  expect(await deliveryApplied("stripe", event.id)).toBe("processed");

  await signInAs(page, "viewer");
  await page.goto("/alerts");
  const row = page.getByRole("row").filter({ hasText: `${transferId} (payout ${payout.id})` });
  await expect(row).toContainText("Transfer reversed outside the payout system");
  await expect(row).toContainText(`$30.00 of transfer ${transferId}`);
  await expect(row).toContainText("The payout now shows $30.00 of $80.00 taken back.");
  await expect(row).not.toContainText(/\b3000\b|\b8000\b|USD/);
});
