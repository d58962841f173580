// npm run user:create -- --email ops@example.com --name "Olga Ops" --role admin
// Creates (or updates) a dashboard user. The password comes from PAYOUTS_USER_PASSWORD or
// is asked for on the terminal. Works in production: this is how the first admin is made.
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";

import { createPrismaClient } from "../lib/db.ts";
import { getEnv } from "../lib/env.ts";
import { upsertAdminUser } from "../lib/users/upsert-admin-user.ts";

const ROLES = ["viewer", "operator", "admin"] as const;

async function main() {
  const { values } = parseArgs({
    options: { email: { type: "string" }, name: { type: "string" }, role: { type: "string", default: "viewer" } },
  });
  const role = ROLES.find((r) => r === values.role);
  if (!values.email || !values.name || !role) {
    console.error('Usage: npm run user:create -- --email <email> --name "<name>" --role viewer|operator|admin');
    process.exit(2);
  }
  let password = process.env.PAYOUTS_USER_PASSWORD;
  if (!password) {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    password = await rl.question("Password (at least 12 characters): ");
    rl.close();
  }
  const db = createPrismaClient(getEnv().DATABASE_URL);
  try {
    const user = await upsertAdminUser(
      db,
      { email: values.email, name: values.name, role, password },
      {
        type: "system",
        id: "cli:create-user",
        label: "Command line",
      },
    );
    console.log(`Saved ${user.email} (${user.role}).`);
  } finally {
    await db.$disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
