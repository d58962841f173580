// Acknowledging alerts: viewers cannot (the UI offers nothing, the API answers 403, nothing
// changes); an operator can, and the page then shows who and when.

import { createAlert, saveScreenshots } from "./fixtures/dashboard-fixtures";
import { demoUser, query, signInAs } from "./support";
import { expect, test } from "./test";

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
