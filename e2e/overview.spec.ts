import type { Page } from "@playwright/test";

import { query, signInAs } from "./support";
import { expect, test } from "./test";

type TFigure = { key: string; count: number; amount: number };

async function expectedFigures(): Promise<TFigure[]> {
  const byStatus = await query<{ status: string; currency: string; count: string; amount: string }>(
    `SELECT status::text, currency, count(*) AS count, sum(amount)::bigint AS amount FROM "Payout" GROUP BY 1, 2`,
  );
  const due = await query<{ currency: string; count: string; amount: string }>(
    `SELECT currency, count(*) AS count, sum(amount)::bigint AS amount FROM "Payout"
     WHERE status = 'scheduled' AND "eligibleAt" >= now() AND "eligibleAt" < now() + interval '48 hours' GROUP BY 1`,
  );
  const failed = await query<{ currency: string; count: string; amount: string }>(
    `SELECT currency, count(*) AS count, sum(amount)::bigint AS amount FROM "Payout" WHERE status = 'failed' GROUP BY 1`,
  );
  return [
    ...byStatus.map((r) => ({ key: `status-${r.status}-${r.currency}`, count: Number(r.count), amount: Number(r.amount) })),
    ...due.map((r) => ({ key: `due-48h-${r.currency}`, count: Number(r.count), amount: Number(r.amount) })),
    ...failed.map((r) => ({ key: `failed-${r.currency}`, count: Number(r.count), amount: Number(r.amount) })),
  ].sort((a, b) => a.key.localeCompare(b.key));
}

async function shownFigures(page: Page): Promise<TFigure[]> {
  const figures = await page.locator("[data-testid][data-count][data-amount]").evaluateAll((nodes) =>
    nodes.map((n) => ({
      key: n.getAttribute("data-testid") ?? "",
      count: Number(n.getAttribute("data-count")),
      amount: Number(n.getAttribute("data-amount")),
    })),
  );
  // Zero rows are shown for statuses without payouts; SQL has no row for them.
  return figures.filter((f) => f.count > 0).sort((a, b) => a.key.localeCompare(b.key));
}

test("the Overview figures equal what SQL computes", async ({ page }) => {
  await signInAs(page, "admin");
  // The 48-hour window moves with the clock: accept the page only when SQL gave the
  // same answer just before and just after it was rendered.
  for (let attempt = 1; ; attempt++) {
    const before = await expectedFigures();
    await page.goto("/");
    const shown = await shownFigures(page);
    const after = await expectedFigures();
    if (JSON.stringify(before) !== JSON.stringify(after) && attempt < 3) continue;
    expect(before.length).toBeGreaterThan(0);
    expect(shown).toEqual(after);
    break;
  }
  // The demo data has payouts in every state, so the page is not empty.
  for (const status of ["scheduled", "transferred", "failed", "on_hold"]) {
    await expect(page.getByTestId(`status-${status}`)).toBeVisible();
  }
});
