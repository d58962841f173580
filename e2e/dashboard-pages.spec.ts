// The dashboard's read pages against a production build: what they show equals what SQL
// returns; filters live in the URL; each page is saved as a screenshot artifact.
import type { Page } from "@playwright/test";

import { createAlert, createAuditEntries, createDeliveries, createUser, saveScreenshots } from "./fixtures/dashboard-fixtures";
import { query, signInAs } from "./support";
import { expect, test } from "./test";

/** The ids of the expandable rows (audit entries, deliveries) shown, in order. */
async function rowIds(page: Page, testId: string): Promise<string[]> {
  return page.getByTestId(testId).evaluateAll((rows) => rows.map((r) => r.getAttribute("data-row-id") ?? ""));
}

test.describe("Overview", () => {
  test("charts 30 days of volume, lists stuck payouts and the newest open alerts", async ({ page }) => {
    const alert = await createAlert({ severity: "critical" });
    await signInAs(page, "viewer");

    await test.step("the volume chart renders, one currency at a time", async () => {
      const chart = page.getByTestId("volume-chart");
      await expect(chart.locator("svg.recharts-surface").first()).toBeVisible();
      const currencies = await query<{ currency: string }>(
        `SELECT DISTINCT currency FROM "Payout" WHERE "transferredAt" >= date_trunc('day', now() AT TIME ZONE 'UTC') - interval '29 days' ORDER BY 1`,
      );
      for (const { currency } of currencies) await expect(chart.getByText(currency, { exact: true })).toBeVisible();
      const current = await chart.getAttribute("data-currency");
      const other = currencies.find((c) => c.currency !== current);
      if (other) {
        await chart.getByText(other.currency, { exact: true }).click();
        await expect(chart).toHaveAttribute("data-currency", other.currency);
      }
      await chart.getByText("Show the figures as a table").click();
      await expect(chart.getByRole("table")).toBeVisible();
    });

    await test.step("stuck payouts: processing for more than an hour, as SQL counts them", async () => {
      const count = async () =>
        (
          await query<{ n: string }>(
            `SELECT count(*) AS n FROM "Payout" WHERE status = 'processing' AND "processingStartedAt" < now() - interval '1 hour'`,
          )
        )[0]!.n;
      for (let attempt = 1; ; attempt++) {
        const before = await count();
        await page.reload();
        const shown = await page.getByTestId("stuck").getAttribute("data-stuck-count");
        const after = await count();
        if (before !== after && attempt < 3) continue;
        expect(shown).toBe(after);
        break;
      }
    });

    await test.step("the newest open alerts, with the way to the Alerts page", async () => {
      const newest = page.getByTestId("newest-alerts");
      await expect(newest.getByText(alert.title)).toBeVisible();
      const [open] = await query<{ n: string }>(`SELECT count(*) AS n FROM "Alert" WHERE "acknowledgedAt" IS NULL`);
      await expect(newest).toHaveAttribute("data-open-alerts", open!.n);
      await saveScreenshots(page, "overview");
      await newest.getByRole("link", { name: /All alerts/ }).click();
      await expect(page).toHaveURL(/\/alerts\?state=open$/);
      await expect(page.getByRole("heading", { level: 1, name: "Alerts" })).toBeVisible();
    });
  });
});

test.describe("Disputes", () => {
  test("open disputes first, longest open first, each with the payout it holds", async ({ page }) => {
    await signInAs(page, "viewer");
    await page.goto("/disputes");
    const expected = await query<{ ref: string; status: string; payoutId: string | null }>(
      `SELECT COALESCE(d."externalId", d."stripeDisputeId", left(d.id::text, 8)) AS ref, d.status::text AS status, p.id AS "payoutId"
       FROM "Dispute" d LEFT JOIN "Payout" p ON p."bookingId" = d."bookingId"
       ORDER BY (d.status = 'open') DESC,
                CASE WHEN d.status = 'open' THEN d."openedAt" END ASC, CASE WHEN d.status = 'open' THEN d.id END ASC,
                CASE WHEN d.status = 'resolved' THEN d."resolvedAt" END DESC NULLS LAST, d.id DESC
       LIMIT 25`,
    );
    expect(expected.length).toBeGreaterThan(0);
    const rows = page.getByRole("table").locator("tbody tr");
    await expect(rows).toHaveCount(expected.length);
    expect(await rows.locator("td:nth-child(2) span.font-mono").allTextContents()).toEqual(expected.map((d) => d.ref));

    const firstOpen = expected[0]!;
    expect(firstOpen.status).toBe("open");
    if (firstOpen.payoutId) {
      await expect(rows.first().getByRole("link", { name: /^Payout/ })).toHaveAttribute("href", `/payouts/${firstOpen.payoutId}`);
    }
    await saveScreenshots(page, "disputes");

    await page.getByRole("navigation", { name: "Dispute status" }).getByRole("link", { name: /^Open/ }).click();
    await expect(page).toHaveURL(/\/disputes\?status=open$/);
    const [open] = await query<{ n: string }>(`SELECT count(*) AS n FROM "Dispute" WHERE status = 'open'`);
    await expect(rows).toHaveCount(Math.min(25, Number(open!.n)));
    await expect(rows.locator("td:first-child").filter({ hasText: "Resolved" })).toHaveCount(0);
  });
});

test.describe("Providers", () => {
  test("searches by name and shows readiness, as SQL finds them", async ({ page }) => {
    await signInAs(page, "viewer");
    await page.goto("/providers");
    const [sample] = await query<{ name: string }>(`SELECT name FROM "Provider" ORDER BY name, id LIMIT 1`);
    const term = sample!.name.split(" ").at(-1)!.toLowerCase();
    await page.getByLabel("Search").fill(term);
    await page.getByRole("button", { name: "Apply" }).click();
    await expect(page).toHaveURL(new RegExp(`/providers\\?q=${encodeURIComponent(term)}$`));
    const expected = await query<{ name: string; payoutsEnabled: boolean }>(
      `SELECT name, "payoutsEnabled" FROM "Provider" WHERE name ILIKE $1 OR "stripeAccountId" = $2 OR "externalId" = $2 ORDER BY name, id LIMIT 25`,
      [`%${term}%`, term],
    );
    const rows = page.getByRole("table").locator("tbody tr");
    await expect(rows).toHaveCount(expected.length);
    expect(await rows.locator("td:first-child span.font-medium").allTextContents()).toEqual(expected.map((p) => p.name));

    await page.getByRole("link", { name: "Clear" }).click();
    await expect(page).toHaveURL(/\/providers$/);
    await expect(rows).toHaveCount(25);
    await saveScreenshots(page, "providers");
  });
});

test.describe("Audit log", () => {
  test("filters by actor, action, entity and date show exactly what SQL returns", async ({ page, browser }) => {
    const actor = await createUser("admin", { name: `Audra Auditor ${Date.now().toString(36)}` });
    const fixture = await createAuditEntries(actor);
    await signInAs(page, "viewer");
    await page.goto("/audit");

    await test.step("actor and action", async () => {
      await page.getByLabel("Actor").selectOption({ label: `${actor.name} (${actor.email})` });
      await page.getByLabel("Action").selectOption(fixture.action);
      await page.getByRole("button", { name: "Apply" }).click();
      await expect(page).toHaveURL(new RegExp(`actor=user%3A${actor.id}&action=`));
      const expected = await query<{ id: string }>(
        `SELECT id FROM "AuditLog" WHERE "actorType" = 'admin' AND "actorId" = $1 AND action = $2 ORDER BY "createdAt" DESC, id DESC`,
        [actor.id, fixture.action],
      );
      expect(expected).toHaveLength(6);
      await expect(page.getByTestId("audit-row")).toHaveCount(expected.length);
      expect(await rowIds(page, "audit-row")).toEqual(expected.map((r) => r.id));
    });

    await test.step("entity type and id", async () => {
      await page.goto(`/audit?entityType=payout&entityId=${fixture.entityId}`);
      const expected = await query<{ id: string }>(
        `SELECT id FROM "AuditLog" WHERE "entityType" = 'payout' AND "entityId" = $1 ORDER BY "createdAt" DESC, id DESC`,
        [fixture.entityId],
      );
      expect(expected).toHaveLength(2);
      await expect(page.getByTestId("audit-row")).toHaveCount(2);
      expect(await rowIds(page, "audit-row")).toEqual(expected.map((r) => r.id));
      await expect(page.getByLabel("Entity id")).toHaveValue(fixture.entityId);
    });

    await test.step("actor and a one-day range (UTC, both ends included)", async () => {
      await page.goto(`/audit?actor=user:${actor.id}`);
      await page.getByLabel("From (UTC)").fill(fixture.days[1]!);
      await page.getByLabel("To (UTC, included)").fill(fixture.days[1]!);
      await page.getByRole("button", { name: "Apply" }).click();
      await expect(page).toHaveURL(new RegExp(`from=${fixture.days[1]}&to=${fixture.days[1]}`));
      const expected = await query<{ id: string }>(
        `SELECT id FROM "AuditLog" WHERE "actorId" = $1 AND "actorType" = 'admin'
           AND "createdAt" >= ($2::date)::timestamp AT TIME ZONE 'UTC' AND "createdAt" < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'
         ORDER BY "createdAt" DESC, id DESC`,
        [actor.id, fixture.days[1]],
      );
      expect(expected).toHaveLength(3);
      expect(await rowIds(page, "audit-row")).toEqual(expected.map((r) => r.id));
    });

    await test.step("a row opens to its before and after JSON", async () => {
      const row = page.getByTestId("audit-row").first();
      const toggle = row.getByRole("button", { name: /^Details of/ });
      await expect(toggle).toHaveAttribute("aria-expanded", "false");
      await toggle.press("Enter");
      await expect(toggle).toHaveAttribute("aria-expanded", "true");
      await expect(page.getByLabel(/^State before/)).toContainText('"state": "before"');
      await expect(page.getByLabel(/^State after/)).toContainText('"state": "after"');
    });

    await test.step("keyset pages: Older shows the next 50 newest-first entries", async () => {
      await page.goto("/audit");
      const expected = await query<{ id: string }>(`SELECT id FROM "AuditLog" ORDER BY "createdAt" DESC, id DESC LIMIT 100`);
      expect(await rowIds(page, "audit-row")).toEqual(expected.slice(0, 50).map((r) => r.id));
      await saveScreenshots(page, "audit");
      await page.getByRole("link", { name: "Older" }).click();
      await expect(page).toHaveURL(/after=/);
      await expect.poll(() => rowIds(page, "audit-row")).toEqual(expected.slice(50, 100).map((r) => r.id));
      await page.getByRole("link", { name: "Newer" }).click();
      await expect.poll(() => rowIds(page, "audit-row")).toEqual(expected.slice(0, 50).map((r) => r.id));
    });

    await test.step("the tamper-evident chain: verified intact by the demo seed; an admin verifies now", async () => {
      const panel = page.getByTestId("audit-chain");
      await expect(panel).toContainText(/Chain verified .+: intact/);
      await expect(panel.getByRole("button", { name: "Verify now" })).toHaveCount(0);
      const context = await browser.newContext();
      const adminPage = await context.newPage();
      const admin = await signInAs(adminPage, "admin");
      await adminPage.goto("/audit");
      await adminPage.getByTestId("audit-chain").getByRole("button", { name: "Verify now" }).click();
      await expect(adminPage.getByTestId("audit-chain")).toContainText(`Checked by ${admin.name}`);
      const [last] = await query<{ ok: boolean; trigger: string }>(
        `SELECT ok, trigger FROM "AuditVerification" ORDER BY "finishedAt" DESC, id DESC LIMIT 1`,
      );
      expect(last).toEqual({ ok: true, trigger: "admin" });
      await context.close();
    });
  });
});

test.describe("Webhook deliveries", () => {
  test("lists deliveries with filters, shows payloads; only operators re-drive failed ones", async ({ page, browser, baseURL }) => {
    const fixture = await createDeliveries();
    await signInAs(page, "viewer");

    await test.step("filter by type, then by status, as SQL returns them", async () => {
      await page.goto("/webhooks");
      await page.getByLabel("Type").fill(fixture.type);
      await page.getByRole("button", { name: "Apply" }).click();
      await expect(page).toHaveURL(/\/webhooks\?type=/);
      const all = await query<{ id: string }>(`SELECT id FROM "WebhookEvent" WHERE type = $1 ORDER BY "receivedAt" DESC, id DESC`, [
        fixture.type,
      ]);
      await expect(page.getByTestId("delivery-row")).toHaveCount(4);
      expect(await rowIds(page, "delivery-row")).toEqual(all.map((r) => r.id));
      await page.getByLabel("Status").selectOption("failed");
      await page.getByRole("button", { name: "Apply" }).click();
      await expect(page).toHaveURL(/status=failed/);
      await expect(page.getByTestId("delivery-row")).toHaveCount(1);
      expect(await rowIds(page, "delivery-row")).toEqual([fixture.failedId]);
    });

    await test.step("the payload opens from the keyboard; a viewer has no re-drive", async () => {
      const row = page.getByTestId("delivery-row").first();
      await expect(row.getByRole("button", { name: /^Re-drive/ })).toHaveCount(0);
      await row.getByRole("button", { name: /^Payload of/ }).focus();
      await page.keyboard.press("Enter");
      await expect(page.getByLabel(/^Stored payload of/)).toContainText("ch_");
      await expect(page.getByText("e2e: could not apply").first()).toBeVisible();
      await page.goto(`/webhooks?type=${encodeURIComponent(fixture.type)}`);
      await saveScreenshots(page, "webhook-deliveries");
    });

    await test.step("the re-drive API refuses a viewer and changes nothing", async () => {
      const response = await page.request.post(`/api/admin/webhook-deliveries/${fixture.failedId}/redrive`, {
        headers: { origin: baseURL! },
        data: { reason: "viewer try" },
      });
      expect(response.status()).toBe(403);
      const [row] = await query<{ applyAttempts: number }>(`SELECT "applyAttempts" FROM "WebhookEvent" WHERE id = $1`, [fixture.failedId]);
      expect(row!.applyAttempts).toBe(3);
    });

    await test.step("an operator re-drives the failed delivery through the API endpoint", async () => {
      const context = await browser.newContext();
      const operatorPage = await context.newPage();
      await signInAs(operatorPage, "operator");
      await operatorPage.goto(`/webhooks?type=${encodeURIComponent(fixture.type)}&status=failed`);
      const row = operatorPage.getByTestId("delivery-row").first();
      await row.getByRole("button", { name: /^Re-drive/ }).click();
      const dialog = operatorPage.getByRole("dialog");
      await dialog.getByLabel(/Reason/).fill("Retrying after the e2e fix");
      const answer = operatorPage.waitForResponse(
        (r) => r.url().endsWith(`/api/admin/webhook-deliveries/${fixture.failedId}/redrive`) && r.request().method() === "POST",
      );
      await dialog.getByRole("button", { name: "Re-drive" }).click();
      const response = await answer;
      expect(response.status(), await response.text()).toBe(200);
      await expect(dialog).toBeHidden();
      const [audit] = await query<{ n: string }>(
        `SELECT count(*) AS n FROM "AuditLog" WHERE "entityType" = 'webhook_event' AND "entityId" = $1 AND "actorId" = $2`,
        [fixture.failedId, (await query<{ id: string }>(`SELECT id FROM "AdminUser" WHERE email = 'operator@payouts.test'`))[0]!.id],
      );
      expect(Number(audit!.n)).toBe(1);
      await context.close();
    });
  });
});

test.describe("Platform webhooks", () => {
  test("the delivery log reads for a viewer; an admin adds an endpoint and sees its secret once", async ({ page }) => {
    await signInAs(page, "viewer");
    await test.step("a viewer reads the endpoints and the log, with no way to change them", async () => {
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Platform hooks" }).click();
      await expect(page.getByRole("heading", { name: "Platform webhooks" })).toBeVisible();
      const log = page.getByRole("list", { name: "Platform webhook deliveries" });
      await expect(log.getByText("Delivered").first()).toBeVisible();
      await expect(log.getByText("Gave up")).toHaveCount(1);
      await expect(page.getByRole("button", { name: "Re-send" })).toHaveCount(0);
      await expect(page.getByRole("button", { name: "Add endpoint" })).toHaveCount(0);
    });
    await page.context().clearCookies();
    await signInAs(page, "admin");
    await test.step("an admin adds an endpoint: its secret is shown once", async () => {
      await page.goto("/platform-webhooks");
      await page.getByLabel("URL (http or https)").fill("https://platform.example.test/e2e-hooks");
      await page.getByRole("button", { name: "Add endpoint" }).click();
      await expect(page.getByTestId("platform-webhook-secret")).toHaveText(/^whsec_[A-Za-z0-9+/]+=*$/);
      await page.getByRole("button", { name: "I have stored it" }).click();
      await expect(page.getByTestId("platform-webhook-secret")).toHaveCount(0);
      await expect(page.getByText("https://platform.example.test/e2e-hooks")).toBeVisible();
    });
  });
});
