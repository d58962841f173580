import { createUser } from "./fixtures/dashboard-fixtures";
import { DEMO_USERS, query, signIn, signInAs } from "./support";
import { expect, test } from "./test";

test.describe("sign-in", () => {
  for (const user of DEMO_USERS) {
    test(`the demo ${user.role} signs in and sees the Overview`, async ({ page }) => {
      await signInAs(page, user.role);
      await expect(page.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();
      const shell = page.getByRole("navigation");
      for (const item of ["Overview", "Payouts", "Disputes", "Providers", "Audit log", "Alerts"]) {
        await expect(shell.getByRole("link", { name: item, exact: true })).toBeVisible();
      }
      await expect(page.getByText(user.email)).toBeVisible();
      await expect(page.getByText(user.role, { exact: true })).toBeVisible();
    });
  }

  test("a wrong password shows an error and stays on the login page", async ({ page }) => {
    await signIn(page, DEMO_USERS[0]!.email, "not-the-password");
    await expect(page.getByRole("main").getByRole("alert")).toHaveText("Email or password is incorrect.");
    await expect(page).toHaveURL(/\/login/);
  });

  test("an unknown email shows the same error", async ({ page }) => {
    await signIn(page, "nobody@payouts.test", "whatever-password");
    await expect(page.getByRole("main").getByRole("alert")).toHaveText("Email or password is incorrect.");
  });

  test("five wrong passwords make the account wait seconds, not lock it; the owner then gets in", async ({ page }) => {
    const user = await createUser("operator");
    for (let i = 0; i < 5; i++) {
      await signIn(page, user.email, `wrong-password-${i}`);
      await expect(page.getByRole("main").getByRole("alert")).toHaveText("Email or password is incorrect.");
    }
    // Right after the burst the right password may be asked to wait a few seconds (never minutes).
    await signIn(page, user.email, user.password);
    const refused = page.getByRole("main").getByRole("alert");
    const landed = page.getByRole("heading", { level: 1, name: "Overview" });
    await expect(refused.or(landed)).toBeVisible();
    if (await refused.isVisible()) {
      const text = (await refused.textContent()) ?? "";
      const match = /^Too many failed sign-in attempts\. Try again in (\d+) seconds?\.$/.exec(text);
      expect(match, text).not.toBeNull();
      expect(Number(match![1])).toBeLessThanOrEqual(30);
      await page.waitForTimeout(Number(match![1]) * 1000 + 200);
      await signIn(page, user.email, user.password);
    }
    await expect(landed).toBeVisible();
    const outcomes = await query<{ outcome: string; count: number }>(
      `SELECT outcome::text, count(*)::int AS count FROM "SignInAttempt" WHERE email = $1 AND outcome IN ('failure', 'success') GROUP BY outcome ORDER BY outcome`,
      [user.email],
    );
    expect(outcomes).toEqual([
      { outcome: "failure", count: 5 },
      { outcome: "success", count: 1 },
    ]);
    const alerts = await query<{ title: string }>(`SELECT title FROM "Alert" WHERE kind = 'sign_in_throttled' AND title LIKE $1`, [
      `%${user.email}`,
    ]);
    expect(alerts).toEqual([{ title: `Repeated failed sign-ins for ${user.email}` }]);
  });

  test("signing out returns to the login page and ends the session", async ({ page }) => {
    await signInAs(page, "viewer");
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await expect(page).toHaveURL(/\/login/);
    await page.goto("/payouts");
    await expect(page).toHaveURL(/\/login/);
  });

  test("a session cookie copied before sign-out is refused after it, by the API and by the pages", async ({ page, browser, baseURL }) => {
    const user = await createUser("operator");
    await signIn(page, user.email, user.password);
    await expect(page.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();
    const copied = (await page.context().cookies()).filter((cookie) => cookie.name.endsWith("next-auth.session-token"));
    expect(copied).toHaveLength(1);

    const thief = await browser.newContext({ baseURL });
    try {
      await thief.addCookies(copied);
      expect((await thief.request.get("/api/admin/overview")).status()).toBe(200);

      await page.getByRole("button", { name: "Sign out", exact: true }).click();
      await expect(page).toHaveURL(/\/login/);

      const api = await thief.request.get("/api/admin/overview");
      expect(api.status()).toBe(401);
      expect(await api.json()).toMatchObject({ error: { code: "unauthorized" } });
      const pageResponse = await thief.request.get("/payouts", { maxRedirects: 0 });
      expect([303, 307, 308]).toContain(pageResponse.status());
      expect(new URL(pageResponse.headers().location ?? "", "http://x").pathname).toBe("/login");
    } finally {
      await thief.close();
    }
    const sessions = await query<{ revokedReason: string | null }>(
      `SELECT "revokedReason" FROM "AdminSession" s JOIN "AdminUser" u ON u.id = s."userId" WHERE u.email = $1`,
      [user.email],
    );
    expect(sessions).toEqual([{ revokedReason: "sign_out" }]);
  });

  test("sign out everywhere ends the user's sessions in other browsers too", async ({ page, browser, baseURL }) => {
    const user = await createUser("viewer");
    const laptop = await browser.newContext({ baseURL });
    try {
      const laptopPage = await laptop.newPage();
      await signIn(laptopPage, user.email, user.password);
      await expect(laptopPage.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();

      await signIn(page, user.email, user.password);
      await expect(page.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();
      await page.getByRole("button", { name: "Sign out everywhere" }).click();
      await expect(page).toHaveURL(/\/login/);

      expect((await laptopPage.request.get("/api/admin/overview")).status()).toBe(401);
      await laptopPage.goto("/payouts");
      await expect(laptopPage).toHaveURL(/\/login/);
    } finally {
      await laptop.close();
    }
  });
});

test.describe("anonymous access", () => {
  for (const path of ["/", "/payouts", "/disputes", "/providers", "/audit", "/alerts"]) {
    test(`GET ${path} redirects to the login page`, async ({ request }) => {
      const response = await request.get(path, { maxRedirects: 0 });
      expect([303, 307, 308]).toContain(response.status());
      expect(new URL(response.headers().location ?? "", "http://x").pathname).toBe("/login");
    });
  }

  test("an admin API answers 401 with a JSON error", async ({ request }) => {
    const response = await request.get("/api/admin/overview");
    expect(response.status()).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: "unauthorized" } });
  });

  test("pages and APIs carry the security headers (no framing, no sniffing)", async ({ request }) => {
    for (const path of ["/login", "/api/admin/overview"]) {
      const headers = (await request.get(path, { maxRedirects: 0 })).headers();
      expect(headers["x-frame-options"]).toBe("DENY");
      expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
      expect(headers["x-content-type-options"]).toBe("nosniff");
      expect(headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");
      expect(headers["strict-transport-security"]).toContain("max-age=");
    }
  });

  test("a signed-in viewer can read the admin API", async ({ page }) => {
    await signInAs(page, "viewer");
    const response = await page.request.get("/api/admin/overview");
    expect(response.status()).toBe(200);
  });
});
