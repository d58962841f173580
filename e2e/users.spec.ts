// User management (admins only): the Users page and its API are closed to other roles; an
// admin creates a user who can then sign in, changes their role and disables them.
import type { Browser } from "@playwright/test";

import { createUser, saveScreenshots, unique } from "./fixtures/dashboard-fixtures";
import { query, signIn, signInAs } from "./support";
import { expect, test } from "./test";

async function signInFresh(browser: Browser, email: string, password: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, email, password);
  return { context, page };
}

for (const role of ["viewer", "operator"] as const) {
  test(`${role === "operator" ? "an" : "a"} ${role} cannot manage users: no nav item, the page says which role it needs, the API answers 403`, async ({
    page,
    baseURL,
  }) => {
    await signInAs(page, role);
    await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Users" })).toHaveCount(0);
    await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Webhooks" })).toBeVisible();

    await page.goto("/users");
    const notice = page.getByRole("main").getByRole("alert");
    await expect(notice).toContainText("Managing users needs the admin role.");
    await expect(notice).toContainText(`You are signed in as ${role === "operator" ? "an" : "a"} ${role}.`);
    await expect(page.getByRole("table")).toHaveCount(0);

    expect((await page.request.get("/api/admin/users")).status()).toBe(403);
    const email = `${unique("blocked")}@payouts.test`;
    const created = await page.request.post("/api/admin/users", {
      headers: { origin: baseURL! },
      data: { email, name: "Blocked", role: "admin", password: "long enough password" },
    });
    expect(created.status()).toBe(403);
    const [admin] = await query<{ id: string; role: string; sessionVersion: number; disabledAt: Date | null }>(
      `SELECT id, role::text AS role, "sessionVersion", "disabledAt" FROM "AdminUser" WHERE email = 'admin@payouts.test'`,
    );
    const demoted = await page.request.patch(`/api/admin/users/${admin!.id}`, {
      headers: { origin: baseURL! },
      data: { role: "viewer", reason: "take over" },
    });
    expect(demoted.status()).toBe(403);
    expect(await query(`SELECT id FROM "AdminUser" WHERE email = $1`, [email])).toEqual([]);
    const [after] = await query(`SELECT id, role::text AS role, "sessionVersion", "disabledAt" FROM "AdminUser" WHERE id = $1`, [
      admin!.id,
    ]);
    expect(after).toEqual(admin);
  });
}

test("an admin creates a user who can sign in, changes their role, then disables them", async ({ page, browser }) => {
  const email = `${unique("new-user")}@payouts.test`.toLowerCase();
  const name = `Nora New ${Date.now().toString(36)}`;
  const password = "a-strong-initial-password";
  await signInAs(page, "admin");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Users" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Users" })).toBeVisible();

  await test.step("the admin cannot demote or disable themselves", async () => {
    const me = page.getByRole("row").filter({ hasText: "admin@payouts.test" });
    await expect(me.getByRole("button", { name: /^Change role/ })).toBeDisabled();
    await expect(me.getByRole("button", { name: /^Disable/ })).toBeDisabled();
  });

  await test.step("create: a short password is refused in the form; a good one creates the user", async () => {
    await page.getByRole("button", { name: "Add user" }).click();
    const dialog = page.getByRole("dialog", { name: "Add a user" });
    await dialog.getByLabel("Name").fill(name);
    await dialog.getByLabel("Email").fill(email);
    await dialog.getByLabel("Role").selectOption("viewer");
    await dialog.getByLabel("Initial password").fill("too-short");
    await dialog.getByRole("button", { name: "Add user" }).click();
    await expect(dialog.getByText("The password must be at least 12 characters.")).toBeVisible();
    await saveScreenshots(page, "users-create-dialog");
    await dialog.getByLabel("Initial password").fill(password);
    await dialog.getByLabel(/Reason/).fill("Joins the finance team");
    await dialog.getByRole("button", { name: "Add user" }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByRole("row").filter({ hasText: email })).toContainText("Viewer");
    const audit = await query<{ action: string; reason: string; actorLabel: string }>(
      `SELECT a.action, a.reason, a."actorLabel" FROM "AuditLog" a JOIN "AdminUser" u ON u.id::text = a."entityId" WHERE u.email = $1`,
      [email],
    );
    expect(audit).toEqual([
      { action: "admin_user.created", reason: "Joins the finance team", actorLabel: "Ada Admin <admin@payouts.test>" },
    ]);
  });

  const newcomer = await signInFresh(browser, email, password);
  await test.step("the new user signs in", async () => {
    await expect(newcomer.page).toHaveURL(/\/$/);
    await expect(newcomer.page.getByTestId("current-user-role")).toHaveText("viewer");
  });

  await test.step("change the role: their session ends; signed in again they are an operator", async () => {
    const row = page.getByRole("row").filter({ hasText: email });
    await row.getByRole("button", { name: /^Change role/ }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("New role").selectOption("operator");
    await dialog.getByLabel(/Reason/).fill("Covers payouts on weekends");
    await dialog.getByRole("button", { name: "Change role" }).click();
    await expect(dialog).toBeHidden();
    await expect(row).toContainText("Operator");
    const [stored] = await query<{ role: string }>(`SELECT role::text AS role FROM "AdminUser" WHERE email = $1`, [email]);
    expect(stored!.role).toBe("operator");

    await newcomer.page.goto("/alerts");
    await expect(newcomer.page).toHaveURL(/\/login/);
    await signIn(newcomer.page, email, password);
    await expect(newcomer.page.getByTestId("current-user-role")).toHaveText("operator");
  });

  await test.step("disable: signed out at once, and cannot sign in again", async () => {
    await page.reload();
    await saveScreenshots(page, "users");
    const row = page.getByRole("row").filter({ hasText: email });
    await row.getByRole("button", { name: /^Disable/ }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel(/Reason/).fill("Left the company");
    await dialog.getByRole("button", { name: "Disable" }).click();
    await expect(dialog).toBeHidden();
    await expect(row).toContainText("Disabled");

    await newcomer.page.goto("/");
    await expect(newcomer.page).toHaveURL(/\/login/);
    await signIn(newcomer.page, email, password);
    await expect(newcomer.page.getByRole("main").getByRole("alert")).toContainText("disabled");
    await expect(newcomer.page).toHaveURL(/\/login/);

    const audit = await query<{ action: string; reason: string }>(
      `SELECT a.action, a.reason FROM "AuditLog" a JOIN "AdminUser" u ON u.id::text = a."entityId" WHERE u.email = $1 ORDER BY a."createdAt", a.id`,
      [email],
    );
    expect(audit).toEqual([
      { action: "admin_user.created", reason: "Joins the finance team" },
      { action: "admin_user.role_changed", reason: "Covers payouts on weekends" },
      { action: "admin_user.disabled", reason: "Left the company" },
    ]);
  });
  await newcomer.context.close();
});

test("four-eyes: an admin account is only requested; another admin approves it, then it can sign in", async ({ page, browser }) => {
  const email = `${unique("new-admin")}@payouts.test`.toLowerCase();
  const name = `Adam Newadmin ${Date.now().toString(36)}`;
  const password = "a-strong-initial-password";
  // Another active admin, there before the request, so admin access is four-eyes.
  const second = await createUser("admin", { name: `Bea Second ${Date.now().toString(36)}` });
  await signInAs(page, "admin");
  await page.goto("/users");

  await test.step("the first admin asks for an admin account: nothing is created, they wait for another admin", async () => {
    await page.getByRole("button", { name: "Add user" }).click();
    const dialog = page.getByRole("dialog", { name: "Add a user" });
    await dialog.getByLabel("Name").fill(name);
    await dialog.getByLabel("Email").fill(email);
    await dialog.getByLabel("Role").selectOption("admin");
    await dialog.getByLabel("Initial password").fill(password);
    await dialog.getByLabel(/Reason/).fill("Takes over the finance approvals");
    await dialog.getByRole("button", { name: "Add user" }).click();
    await expect(dialog).toBeHidden();
    const request = page.getByRole("listitem", { name: `Admin access request for ${name}` });
    await expect(request).toContainText("You asked to create an admin account for");
    await expect(request).toContainText("Waiting for another admin's approval");
    await expect(request.getByRole("button", { name: /^Approve/ })).toHaveCount(0);
    await expect(page.getByRole("row").filter({ hasText: email })).toHaveCount(0);
    expect(await query(`SELECT id FROM "AdminUser" WHERE email = $1`, [email])).toHaveLength(0);
    await saveScreenshots(page, "users-admin-request");
  });

  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await test.step("the other admin sees the alert naming who asked for whom, and approves on the Users page", async () => {
    await signIn(otherPage, second.email, second.password);
    await expect(otherPage).toHaveURL(/\/$/);
    await otherPage.goto("/alerts");
    await expect(otherPage.getByRole("main")).toContainText(`Ada Admin <admin@payouts.test> asks to create an admin account for ${name}`);
    await otherPage.goto("/users");
    const request = otherPage.getByRole("listitem", { name: `Admin access request for ${name}` });
    await expect(request).toContainText("Ada Admin asked to create an admin account for");
    await request.getByRole("button", { name: `Approve admin access for ${name}` }).click();
    const dialog = otherPage.getByRole("dialog");
    await dialog.getByLabel(/Reason/).fill("Confirmed with the finance lead");
    await dialog.getByRole("button", { name: "Approve" }).click();
    await expect(dialog).toBeHidden();
    await expect(request).toHaveCount(0);
    await expect(otherPage.getByRole("row").filter({ hasText: email })).toContainText("Admin");
    const audit = await query<{ action: string; actorLabel: string }>(
      `SELECT a.action, a."actorLabel" FROM "AuditLog" a JOIN "AdminUser" u ON u.id::text = a."entityId" WHERE u.email = $1 ORDER BY a."createdAt", a.action`,
      [email],
    );
    expect(audit).toEqual([
      { action: "admin_access.requested", actorLabel: "Ada Admin <admin@payouts.test>" },
      { action: "admin_access.approved", actorLabel: `${second.name} <${second.email}>` },
      { action: "admin_user.created", actorLabel: `${second.name} <${second.email}>` },
    ]);
  });
  await other.close();

  const newcomer = await signInFresh(browser, email, password);
  await test.step("the new admin signs in as admin", async () => {
    await expect(newcomer.page.getByTestId("current-user-role")).toHaveText("admin");
  });
  await newcomer.context.close();
});
