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

  test("five wrong passwords lock the account for 15 minutes, even for the right password", async ({ page }) => {
    const user = await createUser("operator");
    for (let i = 0; i < 5; i++) {
      await signIn(page, user.email, `wrong-password-${i}`);
      await expect(page.getByRole("main").getByRole("alert")).toHaveText("Email or password is incorrect.");
    }
    await signIn(page, user.email, user.password);
    await expect(page.getByRole("main").getByRole("alert")).toHaveText("Too many failed sign-in attempts. Try again in 15 minutes.");
    await expect(page).toHaveURL(/\/login/);
    const outcomes = await query<{ outcome: string; count: number }>(
      `SELECT outcome::text, count(*)::int AS count FROM "SignInAttempt" WHERE email = $1 GROUP BY outcome ORDER BY outcome`,
      [user.email],
    );
    expect(outcomes).toEqual([
      { outcome: "failure", count: 5 },
      { outcome: "throttled", count: 1 },
    ]);
    const alerts = await query<{ title: string }>(`SELECT title FROM "Alert" WHERE kind = 'sign_in_throttled' AND title LIKE $1`, [
      `%${user.email}`,
    ]);
    expect(alerts).toEqual([{ title: `Sign-in locked for ${user.email}` }]);
  });

  test("signing out returns to the login page and ends the session", async ({ page }) => {
    await signInAs(page, "viewer");
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login/);
    await page.goto("/payouts");
    await expect(page).toHaveURL(/\/login/);
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
