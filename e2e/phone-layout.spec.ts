// On a phone (390 × 844) no dashboard page scrolls sideways, the row actions of /users and
// /webhooks are on screen, and the Overview's figures fit in their cards.
import type { Page } from "@playwright/test";

import { createDeliveries, createUser } from "./fixtures/dashboard-fixtures";
import * as fx from "./fixtures/payout-actions-fixtures";
import { signInAs } from "./support";
import { expect, test } from "./test";

test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

/** The page's scroll width against its client width (document.scrollingElement). */
async function sideways(page: Page): Promise<{ scrollWidth: number; clientWidth: number }> {
  return page.evaluate(() => {
    const root = document.scrollingElement ?? document.documentElement;
    return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth };
  });
}

async function expectNoSidewaysScroll(page: Page, path: string) {
  const { scrollWidth, clientWidth } = await sideways(page);
  expect(scrollWidth, `${path} scrolls sideways on a phone`).toBeLessThanOrEqual(clientWidth);
}

test("no dashboard page scrolls sideways on a phone; row actions are on screen", async ({ page }) => {
  const tag = fx.runTag();
  const provider = await fx.insertProvider(tag, `Phone Provider ${tag.slice(-6)}`);
  // A long figure: ¥2,000,000,000 on hold must still fit in its Overview card.
  const big = await fx.insertPayout(provider, { tag, providerShare: 2_000_000_000, currency: "JPY", status: "on_hold" });
  const deliveries = await createDeliveries();
  await createUser("viewer", { name: `A rather long display name for a phone ${tag.slice(-6)}` });
  await signInAs(page, "admin");

  const pages = ["/", "/payouts", `/payouts/${big.id}`, "/disputes", "/providers", "/audit", "/alerts", "/webhooks", "/users"];
  for (const path of pages) {
    await test.step(path, async () => {
      await page.goto(path);
      await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
      await expectNoSidewaysScroll(page, path);
    });
  }

  await test.step("the Overview's figures fit in their cards", async () => {
    await page.goto("/");
    // (The demo data holds yen payouts too: the card shows their sum, well past two billion.)
    await expect(page.getByTestId("status-on_hold-JPY")).toContainText(/¥2,0\d\d,\d{3},\d{3}/);
    const overflowing = await page
      .locator('[data-testid^="status-"]')
      .evaluateAll((cards) => cards.filter((c) => c.scrollWidth > c.clientWidth + 1).map((c) => c.getAttribute("data-testid")));
    expect(overflowing).toEqual([]);
    await page.getByTestId("status-on_hold-JPY").scrollIntoViewIfNeeded();
    await expect(page.getByTestId("status-on_hold-JPY")).toBeInViewport({ ratio: 1 });
  });

  await test.step("/webhooks: a failed delivery's re-drive is on screen", async () => {
    await page.goto(`/webhooks?type=${encodeURIComponent(deliveries.type)}&status=failed`);
    const row = page.getByTestId("delivery-row").first();
    const redrive = row.getByRole("button", { name: /^Re-drive/ });
    await redrive.scrollIntoViewIfNeeded();
    await expect(redrive).toBeInViewport({ ratio: 1 });
    await expectNoSidewaysScroll(page, "/webhooks (filtered)");
    // Its payload opens without pushing the page sideways either.
    await row.getByRole("button", { name: /^Payload of/ }).click();
    await expect(page.getByLabel(/^Stored payload of/)).toBeVisible();
    await expectNoSidewaysScroll(page, "/webhooks (payload open)");
  });

  await test.step("/users: each user's actions are on screen", async () => {
    await page.goto("/users");
    const change = page.getByRole("button", { name: /^Change role of A rather long display name/ });
    await change.scrollIntoViewIfNeeded();
    await expect(change).toBeInViewport({ ratio: 1 });
    const disable = page.getByRole("button", { name: /^Disable A rather long display name/ });
    await expect(disable).toBeInViewport({ ratio: 1 });
  });
});
