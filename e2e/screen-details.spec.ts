// Details a finance person must not misread: the Overview's failed payouts name the payout (its
// own short id, linked) apart from the booking; the volume chart's ticks are round; the
// Webhooks page offers a re-drive exactly where the API allows one, and an ignored delivery's
// reason is not an error.
import type { Page } from "@playwright/test";

import { unique } from "./fixtures/dashboard-fixtures";
import * as fx from "./fixtures/payout-actions-fixtures";
import { query, signInAs } from "./support";
import { expect, test } from "./test";

/** "$1K" → 1000, "$2.5M" → 2500000, "$950" → 950, "12" → 12. */
function tickValue(text: string): number {
  const match = /^[^\d-]*(-?[\d,.]+)\s*([KMB]?)$/.exec(text.trim());
  if (!match) throw new Error(`not a tick: ${text}`);
  const scale = { "": 1, K: 1e3, M: 1e6, B: 1e9 }[match[2] as "" | "K" | "M" | "B"];
  return Number(match[1]!.replaceAll(",", "")) * scale;
}

async function yTicks(page: Page): Promise<number[]> {
  const texts = await page
    .getByTestId("volume-chart")
    .locator(".recharts-yAxis-tick-labels .recharts-cartesian-axis-tick-value")
    .evaluateAll((nodes) => nodes.map((n) => n.textContent ?? ""));
  return texts.map(tickValue).sort((a, b) => a - b);
}

test("the Overview's failed payouts show the payout's own id, linked, and the booking apart", async ({ page }) => {
  const tag = fx.runTag();
  const provider = await fx.insertProvider(tag, `Failing Provider ${tag.slice(-6)}`);
  const failed = await fx.insertPayout(provider, { tag, providerShare: 16_235, status: "failed", attempts: 3 });
  // Newest failure first on the Overview.
  await query(`UPDATE "Payout" SET "updatedAt" = now() + interval '1 minute', "lastError" = 'e2e: card_declined' WHERE id = $1`, [
    failed.id,
  ]);
  await signInAs(page, "viewer");
  await page.goto("/");
  const table = page.getByTestId("failed").getByRole("table");
  await expect(table.getByRole("columnheader")).toContainText(["Failed", "Provider", "Payout", "Booking", "Amount"]);
  const row = table.getByRole("row").filter({ hasText: provider.name });
  const link = row.getByRole("link", { name: `Payout ${failed.id.slice(0, 8)} of booking ${failed.bookingExternalId}` });
  await expect(link).toHaveText(failed.id.slice(0, 8));
  await expect(link).toHaveAttribute("href", `/payouts/${failed.id}`);
  await expect(link).toHaveAttribute("title", failed.id);
  await expect(row.getByRole("cell").nth(3)).toHaveText(failed.bookingExternalId);
  await expect(row).toContainText("$162.35");
  // An id never wraps inside itself.
  for (const id of [link, row.getByText(failed.bookingExternalId, { exact: true })]) {
    expect(await id.evaluate((el) => getComputedStyle(el).whiteSpace)).toBe("nowrap");
  }
});

test("the volume chart's ticks are round steps (1, 2 or 5 times a power of ten)", async ({ page }) => {
  await signInAs(page, "viewer");
  await page.goto("/");
  await expect(page.getByTestId("volume-chart").locator("svg.recharts-surface").first()).toBeVisible();
  for (const metric of ["Amount", "Count"]) {
    if (metric === "Count") await page.getByTestId("volume-chart").getByText("Count", { exact: true }).click();
    await expect.poll(async () => (await yTicks(page)).length).toBeGreaterThan(1);
    const ticks = await yTicks(page);
    expect(ticks[0]).toBe(0);
    const step = ticks[1]!;
    const mantissa = step / 10 ** Math.floor(Math.log10(step));
    expect([1, 2, 5], `${metric} ticks ${ticks.join(", ")}`).toContain(Math.round(mantissa * 1e6) / 1e6);
    ticks.forEach((t, i) => expect(t, `${metric} ticks ${ticks.join(", ")}`).toBeCloseTo(i * step, 6));
  }
});

test("Webhooks: re-drive is offered exactly where the API allows it; an ignored reason is not shown as an error", async ({
  page,
  baseURL,
}) => {
  const type = unique("e2e.redrive");
  // (One column holds a delivery's text: a processed one's is a note, any other's what went wrong or why.)
  const insert = async (status: string, text: string) => {
    const [row] = await query<{ id: string }>(
      `INSERT INTO "WebhookEvent" (source, "externalId", type, payload, status, error, "applyAttempts", "receivedAt")
       VALUES ('booking_platform', $1, $2, '{}'::jsonb, $3::"WebhookEventStatus", $4, 1, now()) RETURNING id`,
      [unique("evt"), type, status, text],
    );
    return row!.id;
  };
  const ids = {
    failed: await insert("failed", "e2e: could not apply"),
    deferred: await insert("deferred", "waiting for the booking or tip paid with charge ch_e2e"),
    ignored: await insert("ignored", "Stripe event type e2e.thing is not one Payouts acts on"),
    processed: await insert("processed", "e2e: applied"),
  };
  await signInAs(page, "operator");
  await page.goto(`/webhooks?type=${encodeURIComponent(type)}`);
  await expect(page.getByTestId("delivery-row")).toHaveCount(4);
  const rowOf = (id: string) => page.locator(`[data-testid="delivery-row"][data-row-id="${id}"]`);
  for (const [status, id] of Object.entries(ids)) {
    const offered = await rowOf(id)
      .getByRole("button", { name: /^Re-drive/ })
      .count();
    // The API's answer for the same delivery (a refused one changes nothing; an accepted one re-applies it).
    const response = await page.request.post(`/api/admin/webhook-deliveries/${id}/redrive`, {
      headers: { origin: baseURL! },
      data: { reason: "e2e: does the API agree" },
    });
    expect({ status, offered: offered === 1 }).toEqual({ status, offered: response.status() === 200 });
    expect([200, 409], `${status}: ${response.status()}`).toContain(response.status());
  }
  await page.reload();
  const colour = (id: string) =>
    rowOf(id)
      .locator("[title]")
      .last()
      .evaluate((el) => getComputedStyle(el).color);
  const failedColour = await colour(ids.failed);
  expect(await colour(ids.ignored)).not.toBe(failedColour);
  expect(await colour(ids.processed)).not.toBe(failedColour);
});
