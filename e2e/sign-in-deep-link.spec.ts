// A link opened while signed out comes back after signing in (same-origin paths only, never a
// foreign URL); next-auth's sign-out and error pages are our own, branded ones.
import type { Page } from "@playwright/test";

import * as fx from "./fixtures/payout-actions-fixtures";
import { demoUser } from "./support";
import { expect, streamSettled, test } from "./test";

/** Signs in on the login page already open (keeping its callbackUrl). */
async function signInHere(page: Page, role: "viewer" | "operator" | "admin") {
  const user = demoUser(role);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("a payout link opened while signed out lands on the payout after sign-in", async ({ page, baseURL }) => {
  const tag = fx.runTag();
  const provider = await fx.insertProvider(tag);
  const payout = await fx.insertPayout(provider, { tag, providerShare: 4_200 });

  await page.goto(`/payouts/${payout.id}`);
  await expect(page).toHaveURL(`${baseURL}/login?callbackUrl=${encodeURIComponent(`/payouts/${payout.id}`)}`);
  await signInHere(page, "viewer");
  await expect(page).toHaveURL(`${baseURL}/payouts/${payout.id}`);
  await streamSettled(page);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("$42.00");
});

test("a list link keeps its filters through sign-in", async ({ page, baseURL }) => {
  await page.goto("/payouts?status=failed&sort=amount");
  await expect(page).toHaveURL(/\/login\?callbackUrl=/);
  expect(new URL(page.url()).searchParams.get("callbackUrl")).toBe("/payouts?status=failed&sort=amount");
  await signInHere(page, "operator");
  await expect(page).toHaveURL(`${baseURL}/payouts?status=failed&sort=amount`);
});

for (const foreign of ["https://evil.example/payouts", "//evil.example/payouts", "/\\evil.example"]) {
  test(`a foreign callback URL (${foreign}) is refused: sign-in lands on the Overview`, async ({ page, baseURL }) => {
    await page.goto(`/login?callbackUrl=${encodeURIComponent(foreign)}`);
    await signInHere(page, "viewer");
    await expect(page).toHaveURL(`${baseURL}/`);
    await streamSettled(page);
    await expect(page.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();
  });
}

test("signed in, the login page follows a same-origin callback and refuses a foreign one", async ({ page, baseURL }) => {
  await page.goto("/login");
  await signInHere(page, "viewer");
  await expect(page).toHaveURL(`${baseURL}/`);
  await page.goto(`/login?callbackUrl=${encodeURIComponent("/alerts")}`);
  await expect(page).toHaveURL(`${baseURL}/alerts`);
  await page.goto(`/login?callbackUrl=${encodeURIComponent("https://evil.example/")}`);
  await expect(page).toHaveURL(`${baseURL}/`);
});

test("next-auth's sign-out and error pages are branded pages of ours", async ({ page, baseURL }) => {
  await test.step("error page: words, not a code", async () => {
    await page.goto("/api/auth/error?error=Configuration");
    await expect(page).toHaveURL(`${baseURL}/auth-error?error=Configuration`);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Could not sign you in");
    await expect(page.getByRole("main").getByRole("alert")).toContainText("Sign-in is not configured correctly on the server");
    await expect(page.getByRole("link", { name: "Back to sign in" })).toHaveAttribute("href", "/login");
  });

  await test.step("sign-out page: asks, then signs out", async () => {
    await page.goto("/login");
    await signInHere(page, "viewer");
    await expect(page).toHaveURL(`${baseURL}/`);
    await page.goto("/api/auth/signout");
    await expect(page).toHaveURL(`${baseURL}/sign-out`);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sign out of Payouts?");
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login/);
    await page.goto("/alerts");
    await expect(page).toHaveURL(`${baseURL}/login?callbackUrl=%2Falerts`);
  });
});
