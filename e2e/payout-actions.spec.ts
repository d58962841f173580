import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";

import type { Page } from "@playwright/test";

import * as fx from "./fixtures/payout-actions-fixtures";
import { demoUser, query, signIn, signInAs, type TDemoUser } from "./support";
import { expect, test } from "./test";

const ORIGIN = `http://127.0.0.1:${process.env.E2E_PORT ?? 3100}`;
const FOREIGN_ORIGIN = "https://evil.example";
const ACTIONS = ["hold", "release", "retry", "force_release", "cancel"] as const;
const ACTION_BUTTONS = /^(Hold|Release|Retry|Force release|Cancel payout)/;
const SCREENSHOTS = "test-results/screenshots";

let provider: fx.TFixtureProvider;

test.beforeAll(async () => {
  provider = await fx.insertProvider(fx.runTag());
});

const label = (user: { name: string; email: string }) => `${user.name} <${user.email}>`;

async function openPayout(page: Page, payoutId: string) {
  await page.goto(`/payouts/${payoutId}`);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Payout");
}

function actionButton(page: Page, name: string | RegExp) {
  return page.getByTestId("payout-actions").getByRole("button", typeof name === "string" ? { name, exact: true } : { name });
}

/** Opens an action's dialog, gives the reason and confirms; waits for the dialog to close. */
async function runAction(page: Page, button: string | RegExp, reason: string, confirm: string) {
  await actionButton(page, button).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible();
  await dialog.getByLabel(/Reason/).fill(reason);
  await dialog.getByRole("button", { name: confirm }).click();
  await expect(dialog).toBeHidden();
}

function status(page: Page) {
  return page.getByTestId("payout-status");
}

function timelineItem(page: Page, action: string) {
  return page.getByTestId("payout-timeline").locator(`[data-testid="timeline-item"][data-action="${action}"]`);
}

function mutate(page: Page, url: string, data: unknown, origin = ORIGIN) {
  return page.request.post(url, { headers: { origin }, data, failOnStatusCode: false });
}

test.describe("roles", () => {
  for (const role of ["viewer", "operator", "admin"] as const) {
    test(`the ${role} sees the actions its role allows, disabled ones with the reason`, async ({ page }) => {
      const payout = await fx.insertPayout(provider, { tag: fx.runTag(), providerShare: 5_000 });
      await signInAs(page, role);
      await openPayout(page, payout.id);
      await expect(status(page)).toHaveAttribute("data-status", "scheduled");
      const main = page.getByRole("main");
      if (role === "viewer") {
        await expect(page.getByTestId("no-actions")).toContainText("Your role (viewer) can read payouts but not change them");
        await expect(main.getByRole("button", { name: ACTION_BUTTONS })).toHaveCount(0);
        return;
      }
      const expected = role === "operator" ? ["Hold", "Release", "Retry"] : ["Hold", "Release", "Retry", "Force release", "Cancel payout"];
      await expect(page.getByTestId("payout-actions").getByRole("button")).toHaveText(expected);
      await expect(actionButton(page, "Hold")).not.toHaveAttribute("aria-disabled", "true");
      await expect(actionButton(page, "Release")).toHaveAttribute("aria-disabled", "true");
      await expect(actionButton(page, "Release")).toHaveAccessibleDescription("The payout is not on hold.");
      await expect(actionButton(page, "Retry")).toHaveAccessibleDescription("Only a failed payout can be retried.");
      // A disabled action opens nothing (force: Playwright itself waits for aria-disabled buttons to enable).
      await actionButton(page, "Release").click({ force: true });
      await expect(page.getByRole("dialog")).toHaveCount(0);
    });
  }

  test("forged requests from a viewer's session to every mutation answer 403 and change nothing", async ({ page }) => {
    const payout = await fx.insertPayout(provider, { tag: fx.runTag(), providerShare: 150_000 });
    const admin = demoUser("admin");
    const approvalId = await fx.insertPendingApproval(
      payout,
      { id: await fx.userIdByEmail(admin.email), label: label(admin) },
      "Fixture request",
    );
    const before = await fx.payoutState(payout.id);
    expect(before).toMatchObject({ status: "scheduled", pending: 1 });

    await signInAs(page, "viewer");
    await test.step("payout actions", async () => {
      for (const action of ACTIONS) {
        const response = await mutate(page, `/api/admin/payouts/${payout.id}/actions`, {
          action,
          reason: "forged by a viewer",
          expectedVersion: before.version,
        });
        expect(response.status(), action).toBe(403);
        expect(await response.json()).toMatchObject({ error: { code: "forbidden" } });
      }
    });
    await test.step("four-eyes decisions", async () => {
      for (const decision of ["approve", "reject"]) {
        const response = await mutate(page, `/api/admin/approvals/${approvalId}/${decision}`, { reason: "forged by a viewer" });
        expect(response.status(), decision).toBe(403);
      }
    });
    expect(await fx.payoutState(payout.id)).toEqual(before);

    await test.step("an operator cannot run admin actions either", async () => {
      await page.context().clearCookies();
      await signInAs(page, "operator");
      for (const action of ["force_release", "cancel"]) {
        const response = await mutate(page, `/api/admin/payouts/${payout.id}/actions`, {
          action,
          reason: "forged by an operator",
          expectedVersion: before.version,
        });
        expect(response.status(), action).toBe(403);
        expect(await response.json()).toMatchObject({ error: { message: expect.stringContaining("needs the admin role") } });
      }
      expect(await fx.payoutState(payout.id)).toEqual(before);
    });
  });

  test("without a session a mutation answers 401 and changes nothing", async ({ request }) => {
    const payout = await fx.insertPayout(provider, { tag: fx.runTag(), providerShare: 5_000 });
    const before = await fx.payoutState(payout.id);
    const response = await request.post(`/api/admin/payouts/${payout.id}/actions`, {
      headers: { origin: ORIGIN },
      data: { action: "hold", reason: "anonymous", expectedVersion: before.version },
      failOnStatusCode: false,
    });
    expect(response.status()).toBe(401);
    expect(await fx.payoutState(payout.id)).toEqual(before);
  });
});

test("an operator holds a scheduled payout with a reason, then releases it: status, timeline and audit log show both", async ({ page }) => {
  const payout = await fx.insertPayout(provider, { tag: fx.runTag(), providerShare: 7_500 });
  const operator: TDemoUser = await signInAs(page, "operator");
  await openPayout(page, payout.id);

  await test.step("hold", async () => {
    await runAction(page, "Hold", "Provider asked us to wait for a new bank account", "Hold payout");
    await expect(status(page)).toHaveAttribute("data-status", "on_hold");
    await expect(status(page)).toContainText("On hold");
    await expect(page.getByText("Payout put on hold.")).toBeVisible();
    const held = timelineItem(page, "payout.held");
    await expect(held).toContainText(label(operator));
    await expect(held).toContainText("Provider asked us to wait for a new bank account");
    await expect(held).toContainText("Scheduled → On hold");
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: `${SCREENSHOTS}/payout-detail-on-hold.png` });
  });

  await test.step("release", async () => {
    await runAction(page, "Release", "New bank account confirmed", "Release payout");
    await expect(status(page)).toHaveAttribute("data-status", "scheduled");
    const released = timelineItem(page, "payout.released");
    await expect(released).toContainText(label(operator));
    await expect(released).toContainText("New bank account confirmed");
    await expect(released).toContainText("On hold → Scheduled");
    // Newest first: the release above the hold.
    const actions = await page.getByTestId("timeline-item").evaluateAll((items) => items.map((i) => i.getAttribute("data-action")));
    expect(actions.indexOf("payout.released")).toBeLessThan(actions.indexOf("payout.held"));
  });

  await test.step("audit log", async () => {
    const entries = (await fx.auditEntries(payout.id)).filter((e) => e.actorLabel === label(operator));
    expect(entries.map((e) => [e.action, e.reason])).toEqual([
      ["payout.held", "Provider asked us to wait for a new bank account"],
      ["payout.released", "New bank account confirmed"],
    ]);
    await page.getByRole("link", { name: "Open in audit log" }).click();
    await expect(page).toHaveURL(new RegExp(`/audit\\?entityType=payout&entityId=${payout.id}`));
    // The audit log page (filtered to this payout) shows each entry with the operator and the reason.
    const main = page.getByRole("main");
    for (const reason of ["Provider asked us to wait for a new bank account", "New bank account confirmed"]) {
      const entry = main.getByRole("row").filter({ hasText: reason }).first();
      await expect(entry).toBeVisible();
      await expect(entry).toContainText(operator.name);
      await expect(entry).toContainText(operator.email);
    }
  });
});

test("an admin cancels a payout with a reason", async ({ page }) => {
  const payout = await fx.insertPayout(provider, { tag: fx.runTag(), providerShare: 3_300 });
  const admin = await signInAs(page, "admin");
  await openPayout(page, payout.id);
  await runAction(page, "Cancel payout", "Booking was fraudulent", "Cancel payout");
  await expect(status(page)).toHaveAttribute("data-status", "cancelled");
  await expect(page.getByTestId("status-callout")).toContainText("Booking was fraudulent");
  await expect(timelineItem(page, "payout.cancelled")).toContainText(label(admin));
  // Nothing is left to do, and each action says why.
  await expect(actionButton(page, "Hold")).toHaveAccessibleDescription("The payout is cancelled.");
  expect((await fx.auditEntries(payout.id)).at(-1)).toMatchObject({
    action: "payout.cancelled",
    actorLabel: label(admin),
    reason: "Booking was fraudulent",
  });
});

test("four-eyes: a force release above the threshold waits for a second admin; the requester cannot approve it", async ({
  page,
  browser,
}) => {
  const tag = fx.runTag();
  const payout = await fx.insertPayout(provider, { tag, providerShare: 250_000 });
  const second = await fx.insertAdmin(tag);
  const admin = await signInAs(page, "admin");
  await openPayout(page, payout.id);

  let approvalId = "";
  await test.step("the first admin requests it", async () => {
    await expect(actionButton(page, /^Force release/)).toContainText("needs a second admin");
    await actionButton(page, /^Force release/).click();
    await expect(page.getByRole("dialog")).toContainText("a second admin must approve it");
    await page
      .getByRole("dialog")
      .getByLabel(/Reason/)
      .fill("Provider is a key partner; pay before the weekend");
    await page.getByRole("dialog").getByRole("button", { name: "Request approval" }).click();
    await expect(page.getByRole("dialog")).toBeHidden();
    await expect(status(page)).toContainText("Awaiting second approval");
    await expect(status(page)).toHaveAttribute("data-status", "scheduled");
    const approval = page.getByTestId("approval");
    await expect(approval).toHaveAttribute("data-state", "pending");
    await expect(approval).toContainText("Provider is a key partner; pay before the weekend");
    await expect(page.getByTestId("approve-blocked")).toHaveText("You requested this force release; a second admin must approve it.");
    await expect(page.getByRole("button", { name: "Approve and release" })).toHaveCount(0);
    await expect(actionButton(page, /^Force release/)).toHaveAccessibleDescription(
      `Already awaiting a second admin's approval (requested by ${admin.name}).`,
    );
    const rows = await query<{ id: string }>(`SELECT id FROM "PayoutApproval" WHERE "payoutId" = $1 AND status = 'pending'`, [payout.id]);
    expect(rows).toHaveLength(1);
    approvalId = rows[0]!.id;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: `${SCREENSHOTS}/payout-detail-four-eyes.png` });
  });

  await test.step("the requester's own approval is refused", async () => {
    const before = await fx.payoutState(payout.id);
    const response = await mutate(page, `/api/admin/approvals/${approvalId}/approve`, { reason: "Approving my own request" });
    expect(response.status()).toBe(403);
    expect(await response.json()).toMatchObject({
      error: { message: "You requested this force release; a second admin must approve it." },
    });
    expect(await fx.payoutState(payout.id)).toEqual(before);
  });

  await test.step("a second admin approves it", async () => {
    const context = await browser.newContext();
    const page2 = await context.newPage();
    await signIn(page2, second.email, second.password);
    await expect(page2).toHaveURL(/\/$/);
    await openPayout(page2, payout.id);
    await page2.getByRole("button", { name: "Approve and release" }).click();
    const dialog = page2.getByRole("dialog");
    await expect(dialog).toContainText("Provider is a key partner; pay before the weekend");
    await dialog.getByLabel(/Reason/).fill("Checked the booking and the provider's account");
    await dialog.getByRole("button", { name: "Approve and release" }).click();
    await expect(dialog).toBeHidden();
    await expect(page2.getByTestId("approval")).toHaveAttribute("data-state", "approved");
    await expect(status(page2)).not.toContainText("Awaiting second approval");
    // No workflow engine runs the transfer here: the page says the release is approved and waiting, and does not offer it again.
    await expect(status(page2)).toContainText("Release approved · waiting for transfer");
    await expect(page2.getByTestId("status-callout")).toContainText(new RegExp(`Release approved by ${second.name} at .*UTC`));
    await expect(page2.getByTestId("status-callout")).toContainText("Waiting for the transfer to run");
    await expect(actionButton(page2, /^Force release/)).toHaveAttribute("aria-disabled", "true");
    await expect(actionButton(page2, /^Force release/)).toHaveAccessibleDescription(
      `A force release was already approved by ${second.name}; it is waiting for the transfer to run.`,
    );
    const [{ version }] = (await query<{ version: number }>(`SELECT version FROM "Payout" WHERE id = $1`, [payout.id])) as [
      { version: number },
    ];
    const again = await mutate(page2, `/api/admin/payouts/${payout.id}/actions`, {
      action: "force_release",
      reason: "Once more",
      expectedVersion: version,
    });
    expect(again.status()).toBe(409);
    expect(await again.json()).toMatchObject({
      error: {
        message: `Cannot force release: a force release was already approved by ${second.name}; it is waiting for the transfer to run.`,
      },
    });
    const released = timelineItem(page2, "payout.force_released");
    await expect(released).toContainText(label(second));
    await expect(released).toContainText(label(admin));
    await context.close();
  });

  const entries = await fx.auditEntries(payout.id);
  expect(entries.find((e) => e.action === "payout.force_release_requested")).toMatchObject({ actorLabel: label(admin) });
  expect(entries.find((e) => e.action === "payout.force_release_approved")).toMatchObject({
    actorLabel: label(second),
    reason: "Checked the booking and the provider's account",
  });
  const released = entries.find((e) => e.action === "payout.force_released");
  expect(released?.actorLabel).toBe(label(second));
  expect(released?.reason).toContain(label(admin));
  expect(released?.reason).toContain(label(second));
  const [row] = await query<{ eligible: boolean }>(`SELECT "eligibleAt" <= now() AS eligible FROM "Payout" WHERE id = $1`, [payout.id]);
  expect(row?.eligible).toBe(true);
});

test("a cross-site POST (foreign Origin) to a mutation is refused and changes nothing", async ({ page }) => {
  const payout = await fx.insertPayout(provider, { tag: fx.runTag(), providerShare: 150_000 });
  const admin = demoUser("admin");
  const approvalId = await fx.insertPendingApproval(
    payout,
    { id: await fx.userIdByEmail(admin.email), label: label(admin) },
    "Fixture request",
  );
  const before = await fx.payoutState(payout.id);
  await signInAs(page, "admin");
  const action = await mutate(
    page,
    `/api/admin/payouts/${payout.id}/actions`,
    { action: "cancel", reason: "cross-site", expectedVersion: before.version },
    FOREIGN_ORIGIN,
  );
  expect(action.status()).toBe(403);
  expect(await action.json()).toMatchObject({ error: { message: expect.stringContaining("Cross-site request refused") } });
  const reject = await mutate(page, `/api/admin/approvals/${approvalId}/reject`, { reason: "cross-site" }, FOREIGN_ORIGIN);
  expect(reject.status()).toBe(403);
  expect(await fx.payoutState(payout.id)).toEqual(before);
  // The same request from the app's own origin is accepted.
  const ok = await mutate(page, `/api/admin/payouts/${payout.id}/actions`, {
    action: "hold",
    reason: "same origin",
    expectedVersion: before.version,
  });
  expect(ok.status()).toBe(200);
});

test("a request validated with .strict(): unknown fields and a missing reason answer 400", async ({ page }) => {
  const payout = await fx.insertPayout(provider, { tag: fx.runTag(), providerShare: 2_000 });
  const before = await fx.payoutState(payout.id);
  await signInAs(page, "admin");
  const extra = await mutate(page, `/api/admin/payouts/${payout.id}/actions`, {
    action: "hold",
    reason: "fine",
    expectedVersion: before.version,
    force: true,
  });
  expect(extra.status()).toBe(400);
  const noReason = await mutate(page, `/api/admin/payouts/${payout.id}/actions`, {
    action: "hold",
    reason: " ",
    expectedVersion: before.version,
  });
  expect(noReason.status()).toBe(400);
  const stale = await mutate(page, `/api/admin/payouts/${payout.id}/actions`, {
    action: "hold",
    reason: "old screen",
    expectedVersion: before.version + 3,
  });
  expect(stale.status()).toBe(409);
  expect(await fx.payoutState(payout.id)).toEqual(before);
});

test("while a payout is processing, the page refreshes itself until it settles", async ({ page }) => {
  const tag = fx.runTag();
  const payout = await fx.insertProcessingPayout(provider, tag);
  await signInAs(page, "viewer");
  await openPayout(page, payout.id);
  await expect(status(page)).toHaveAttribute("data-status", "processing");
  await expect(page.getByTestId("status-callout")).toContainText("Transfer in progress");
  await fx.settleProcessingPayout(payout.id, `tr_e2e${tag}`);
  // No reload: the page polls every 2 s while processing.
  await expect(status(page)).toHaveAttribute("data-status", "transferred", { timeout: 10_000 });
  await expect(timelineItem(page, "payout.transferred")).toContainText(`tr_e2e${tag}`);
});

test("dialogs work from the keyboard and return focus", async ({ page }) => {
  const payout = await fx.insertPayout(provider, { tag: fx.runTag(), providerShare: 1_200 });
  await signInAs(page, "operator");
  await openPayout(page, payout.id);
  const hold = actionButton(page, "Hold");
  await hold.focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel(/Reason/)).toBeFocused();
  // A reason is required.
  await dialog.getByRole("button", { name: "Hold payout" }).click();
  await expect(dialog.getByRole("alert")).toHaveText("Give a reason (at least 3 characters).");
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(hold).toBeFocused();
  expect((await fx.payoutState(payout.id)).status).toBe("scheduled");
});

test("unknown payouts show a not-found page; the API answers 404", async ({ page }) => {
  await signInAs(page, "viewer");
  for (const id of [randomUUID(), "not-a-payout-id"]) {
    await page.goto(`/payouts/${id}`);
    await expect(page.getByRole("heading", { name: "Payout not found" })).toBeVisible();
  }
  expect((await page.request.get(`/api/admin/payouts/${randomUUID()}`, { failOnStatusCode: false })).status()).toBe(404);
});

test("screenshot: the payout detail page on a laptop and a phone", async ({ page }, testInfo) => {
  const tag = fx.runTag();
  const operator = demoUser("operator");
  const payout = await fx.insertPayoutStory(provider, tag, label(operator), await fx.userIdByEmail(operator.email));
  await signInAs(page, "admin");
  mkdirSync(SCREENSHOTS, { recursive: true });

  await page.setViewportSize({ width: 1440, height: 900 });
  await openPayout(page, payout.id);
  await expect(page.getByTestId("amount-breakdown")).toContainText("$205.00");
  await expect(page.getByTestId("payout-timeline")).toContainText(`tr_e2e${tag}`);
  await expect(page.getByTestId("payout-timeline")).toContainText(`ch_tip_e2e${tag}`);
  await expect(page.getByTestId("payout-timeline")).toContainText(`dp_e2e${tag}`);
  await expect(page.getByTestId("payout-timeline")).toContainText("StripeConnectionError");
  const laptop = await page.screenshot({ path: `${SCREENSHOTS}/payout-detail.png`, fullPage: true });
  await testInfo.attach("payout-detail", { body: laptop, contentType: "image/png" });

  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await expect(page.getByTestId("payout-timeline")).toHaveCount(1);
  await expect(page.getByTestId("payout-timeline")).toBeVisible();
  // Readable on a phone: nothing wider than the screen.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  const phone = await page.screenshot({ path: `${SCREENSHOTS}/payout-detail-phone.png`, fullPage: true });
  await testInfo.attach("payout-detail-phone", { body: phone, contentType: "image/png" });
});
