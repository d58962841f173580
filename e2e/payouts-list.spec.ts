import { readFile } from "node:fs/promises";
import path from "node:path";

import type { Page } from "@playwright/test";

import { insertListPayouts, insertListProvider, listRunTag, payoutState, type TListStatus } from "./fixtures/payouts-list-fixtures";
import { query, signInAs } from "./support";
import { expect, test } from "./test";
import { parseCsv } from "../test/support/parse-csv";

const SCREENSHOT = path.join("test-results", "screenshots", "payouts.png");

/** The payout ids the table shows, top to bottom, once it has settled. */
async function shownIds(page: Page): Promise<string[]> {
  await expect(page.locator('[aria-busy="true"]')).toHaveCount(0);
  return page.locator("tbody tr[data-payout-id]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-payout-id") ?? ""));
}

test("a filter of status, provider and date range shows exactly what SQL returns, in a shareable URL, and exports exactly those rows", async ({
  page,
  context,
}) => {
  const tag = listRunTag();
  const main = await insertListProvider(tag, "main");
  const other = await insertListProvider(tag, "other");
  const statuses: TListStatus[] = ["scheduled", "on_hold", "transferred", "failed", "cancelled"];
  const days = Array.from({ length: 20 }, (_, i) => `2025-05-${String(i + 1).padStart(2, "0")}T12:00:00.000Z`);
  await insertListPayouts(main, tag, [
    ...days.map((createdAt, i) => ({ status: statuses[i % statuses.length]!, createdAt })),
    // The range's edges, in UTC: both inclusive days, nothing either side.
    { status: "scheduled", createdAt: "2025-05-05T00:00:00.000Z" },
    { status: "on_hold", createdAt: "2025-05-15T23:59:59.999Z" },
    { status: "scheduled", createdAt: "2025-05-04T23:59:59.999Z" },
    { status: "on_hold", createdAt: "2025-05-16T00:00:00.000Z" },
  ]);
  await insertListPayouts(
    other,
    `${tag}o`,
    days.slice(4, 12).map((createdAt) => ({ status: "scheduled" as const, createdAt })),
  );

  const expected = (
    await query<{ id: string }>(
      `SELECT p.id FROM "Payout" p JOIN "Provider" pr ON pr.id = p."providerId"
       WHERE p.status IN ('scheduled', 'on_hold') AND pr."externalId" = $1
         AND p."createdAt" >= '2025-05-05T00:00:00Z' AND p."createdAt" < '2025-05-16T00:00:00Z'
       ORDER BY p."createdAt" DESC, p.id DESC`,
      [main.externalId],
    )
  ).map((r) => r.id);
  expect(expected.length).toBe(6);

  await signInAs(page, "viewer");
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto("/payouts");

  await test.step("filter in the form", async () => {
    await page.getByText("Any status").click();
    await page.getByRole("checkbox", { name: "Scheduled", exact: true }).check();
    await expect(page).toHaveURL(/status=scheduled/);
    await page.getByRole("checkbox", { name: "On hold", exact: true }).check();
    await expect(page).toHaveURL(/status=on_hold/);
    await page.keyboard.press("Escape");
    await page.getByRole("textbox", { name: "Provider" }).fill(main.externalId);
    await page.getByLabel("From date").fill("2025-05-05");
    await page.getByLabel("To date").fill("2025-05-15");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect
      .poll(() => new URL(page.url()).search)
      .toBe(`?status=scheduled&status=on_hold&provider=${main.externalId}&from=2025-05-05&to=2025-05-15`);
  });

  await test.step("the table shows exactly the SQL rows, with the total", async () => {
    await expect.poll(() => shownIds(page)).toEqual(expected);
    await expect(page.getByTestId("payouts-total")).toHaveAttribute("data-count", String(expected.length));
    await expect(page.getByTestId("payouts-total")).toHaveText("6 payouts");
    await expect(page.getByText(main.name, { exact: true }).first()).toBeVisible();
  });

  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  await test.info().attach("payouts", { path: SCREENSHOT, contentType: "image/png" });

  await test.step("the URL alone reproduces the view (server-rendered)", async () => {
    const shared = await context.newPage();
    await shared.goto(page.url());
    await expect.poll(() => shownIds(shared)).toEqual(expected);
    await expect(shared.getByRole("textbox", { name: "Provider" })).toHaveValue(main.externalId);
    await expect(shared.getByLabel("From date")).toHaveValue("2025-05-05");
    await shared.close();
  });

  await test.step("the CSV export contains exactly those rows", async () => {
    const downloadPromise = page.waitForEvent("download");
    await page.getByRole("link", { name: /Export CSV/ }).click();
    const download = await downloadPromise;
    expect(download.suggestedFilename()).toMatch(/^payouts-\d{8}-\d{4}Z\.csv$/);
    const [header, ...rows] = parseCsv(await readFile(await download.path(), "utf8"));
    expect(header?.slice(0, 6)).toEqual(["payout_id", "status", "hold_reason", "currency", "amount", "amount_minor"]);
    expect(rows.map((r) => r[0])).toEqual(expected);
    const [first] = await query<{ amount: number }>(`SELECT amount FROM "Payout" WHERE id = $1`, [expected[0]]);
    expect(rows[0]?.[5]).toBe(String(first!.amount));
    expect(rows[0]?.[4]).toBe((first!.amount / 100).toFixed(2));
  });
});

test("keyset pages: next and previous walk the filtered rows in order, and a page's URL reloads the same rows", async ({ page }) => {
  const tag = listRunTag();
  const provider = await insertListProvider(tag, "pages");
  await insertListPayouts(
    provider,
    tag,
    Array.from({ length: 55 }, (_, i) => ({
      status: "transferred" as const,
      createdAt: new Date(Date.UTC(2025, 0, 1) + Math.floor(i / 2) * 3_600_000).toISOString(),
    })),
  );
  const all = (
    await query<{ id: string }>(`SELECT p.id FROM "Payout" p WHERE p."providerId" = $1 ORDER BY p."createdAt" DESC, p.id DESC`, [
      provider.id,
    ])
  ).map((r) => r.id);

  await signInAs(page, "viewer");
  await page.goto(`/payouts?provider=${provider.externalId}`);
  await expect.poll(() => shownIds(page)).toEqual(all.slice(0, 50));
  await expect(page.getByTestId("payouts-total")).toHaveText("55 payouts");

  await page.getByRole("link", { name: "Next" }).click();
  await expect(page).toHaveURL(/after=/);
  await expect.poll(() => shownIds(page)).toEqual(all.slice(50));
  await expect(page.getByText("Next →")).toHaveAttribute("aria-disabled", "true");

  await page.reload();
  await expect.poll(() => shownIds(page)).toEqual(all.slice(50));

  await page.getByRole("link", { name: "Previous" }).click();
  await expect(page).toHaveURL(/before=/);
  await expect.poll(() => shownIds(page)).toEqual(all.slice(0, 50));

  await page.goBack();
  await expect.poll(() => shownIds(page)).toEqual(all.slice(50));
});

test("an operator holds then releases selected rows, with a result per row", async ({ page }) => {
  const tag = listRunTag();
  const provider = await insertListProvider(tag, "bulk");
  const created = await insertListPayouts(provider, tag, [
    { status: "scheduled", createdAt: "2025-06-01T10:00:00.000Z" },
    { status: "scheduled", createdAt: "2025-06-01T11:00:00.000Z" },
    { status: "scheduled", createdAt: "2025-06-01T12:00:00.000Z" },
    { status: "transferred", createdAt: "2025-06-01T13:00:00.000Z" },
  ]);
  const scheduled = created.filter((p) => p.status === "scheduled").map((p) => p.id);
  const transferred = created.find((p) => p.status === "transferred")!.id;
  const operator = await signInAs(page, "operator");
  const label = `${operator.name} <${operator.email}>`;
  await page.goto(`/payouts?provider=${provider.externalId}`);
  await expect.poll(() => shownIds(page)).toHaveLength(4);

  const row = (id: string) => page.locator(`tbody tr[data-payout-id="${id}"]`);
  const results = page.getByTestId("bulk-results");

  await test.step("hold three scheduled payouts and a transferred one", async () => {
    for (const id of [...scheduled, transferred]) await row(id).getByRole("checkbox").check();
    await expect(page.getByText("4 selected")).toBeVisible();
    await page.getByRole("button", { name: "Hold selected" }).click();
    const dialog = page.getByRole("dialog", { name: "Hold 4 payouts" });
    await dialog.getByLabel(/Reason/).fill("Bulk fraud review");
    await dialog.getByRole("button", { name: "Hold 4 payouts" }).click();
    await expect(dialog).toBeHidden();

    await expect(results.getByRole("heading")).toHaveText("Hold: 3 held, 1 not held");
    for (const id of scheduled) {
      await expect(results.locator(`[data-payout-id="${id}"]`)).toHaveAttribute("data-ok", "true");
      await expect(results.locator(`[data-payout-id="${id}"]`)).toContainText("Now on hold");
    }
    const refused = results.locator(`[data-payout-id="${transferred}"]`);
    await expect(refused).toHaveAttribute("data-ok", "false");
    await expect(refused).toContainText("Cannot hold a payout that is transferred.");
    // The list was refetched: the rows now show their new status.
    for (const id of scheduled) await expect(row(id)).toContainText("On hold");

    const audit = await query<{ entityId: string; actorLabel: string; reason: string }>(
      `SELECT "entityId", "actorLabel", reason FROM "AuditLog" WHERE action = 'payout.held' AND "entityId" = ANY($1::text[])`,
      [[...scheduled, transferred]],
    );
    expect(audit.map((a) => a.entityId).sort()).toEqual([...scheduled].sort());
    expect(new Set(audit.map((a) => `${a.actorLabel}|${a.reason}`))).toEqual(new Set([`${label}|Bulk fraud review`]));
    const state = await payoutState([...scheduled, transferred]);
    expect(state.statuses).toEqual({ ...Object.fromEntries(scheduled.map((id) => [id, "on_hold"])), [transferred]: "transferred" });
  });

  await test.step("release the three held payouts", async () => {
    await results.getByRole("button", { name: "Dismiss" }).click();
    for (const id of scheduled) await row(id).getByRole("checkbox").check();
    await page.getByRole("button", { name: "Release selected" }).click();
    const dialog = page.getByRole("dialog", { name: "Release 3 payouts" });
    await dialog.getByLabel(/Reason/).fill("Review passed");
    await dialog.getByRole("button", { name: "Release 3 payouts" }).click();
    await expect(results.getByRole("heading")).toHaveText("Release: 3 released");
    for (const id of scheduled) await expect(results.locator(`[data-payout-id="${id}"]`)).toHaveAttribute("data-ok", "true");
    const state = await payoutState(scheduled);
    expect(Object.values(state.statuses)).toEqual(["scheduled", "scheduled", "scheduled"]);
    const released = await query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "AuditLog" WHERE action = 'payout.released' AND "actorLabel" = $2 AND reason = 'Review passed' AND "entityId" = ANY($1::text[])`,
      [scheduled, label],
    );
    expect(released[0]?.n).toBe(3);
  });
});

test("a viewer sees no bulk actions, a forged bulk POST from their session is refused, and so is a foreign Origin", async ({
  page,
  browser,
}) => {
  const tag = listRunTag();
  const provider = await insertListProvider(tag, "guard");
  const created = await insertListPayouts(provider, tag, [
    { status: "scheduled", createdAt: "2025-07-01T10:00:00.000Z" },
    { status: "scheduled", createdAt: "2025-07-01T11:00:00.000Z" },
  ]);
  const ids = created.map((p) => p.id);
  const before = await payoutState(ids);

  await signInAs(page, "viewer");
  await page.goto(`/payouts?provider=${provider.externalId}`);
  await expect.poll(() => shownIds(page)).toHaveLength(2);
  await expect(page.getByRole("checkbox", { name: /Select/ })).toHaveCount(0);
  await expect(page.getByRole("button", { name: /Hold selected|Release selected/ })).toHaveCount(0);

  const origin = new URL(page.url()).origin;
  const forged = await page.request.post("/api/admin/payouts/bulk", {
    headers: { origin, "content-type": "application/json" },
    data: { action: "hold", payoutIds: ids, reason: "Forged by a viewer" },
  });
  expect(forged.status()).toBe(403);
  expect(await forged.json()).toMatchObject({ error: { code: "forbidden" } });
  expect(await payoutState(ids)).toEqual(before);

  const operatorContext = await browser.newContext();
  const operatorPage = await operatorContext.newPage();
  await signInAs(operatorPage, "operator");
  const crossSite = await operatorPage.request.post("/api/admin/payouts/bulk", {
    headers: { origin: "https://evil.example", "content-type": "application/json" },
    data: { action: "hold", payoutIds: ids, reason: "Cross-site request" },
  });
  expect(crossSite.status()).toBe(403);
  expect(await payoutState(ids)).toEqual(before);
  await operatorContext.close();
});
