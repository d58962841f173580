import { expect, type Page } from "@playwright/test";
import pg from "pg";

import { streamSettled } from "./test";
import { DEMO_USERS } from "../lib/seed/demo-users";

export { DEMO_USERS };

export type TDemoUser = (typeof DEMO_USERS)[number];

export function demoUser(role: TDemoUser["role"]): TDemoUser {
  const user = DEMO_USERS.find((u) => u.role === role);
  if (!user) throw new Error(`no demo user with role ${role}`);
  return user;
}

export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export async function signInAs(page: Page, role: TDemoUser["role"]): Promise<TDemoUser> {
  const user = demoUser(role);
  await signIn(page, user.email, user.password);
  await expect(page).toHaveURL(/\/$/);
  // Signing in ends with a full-page navigation to the Overview.
  await streamSettled(page);
  return user;
}

/** Runs a query against the database the e2e server uses (set by scripts/e2e.mjs). */
export async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const connectionString = process.env.E2E_DATABASE_URL;
  if (!connectionString) throw new Error("E2E_DATABASE_URL is not set: run the e2e tests with `npm run test:e2e`.");
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Waits until the server has applied a webhook delivery (source, the sender's event id): the
 * webhooks answer once the delivery is stored and apply it right after (Next's `after()`).
 * Returns its status.
 */
export async function deliveryApplied(source: "booking_platform" | "stripe", externalId: string): Promise<string> {
  let status = "missing";
  await expect
    .poll(
      async () => {
        const [row] = await query<{ status: string }>(`SELECT status FROM "WebhookEvent" WHERE source = $1 AND "externalId" = $2`, [
          source,
          externalId,
        ]);
        status = row?.status ?? "missing";
        return status;
      },
      { message: `delivery ${externalId} applied`, timeout: 10_000 },
    )
    .not.toMatch(/^(missing|received)$/);
  return status;
}
