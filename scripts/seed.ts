// npm run db:seed — creates the demo users and the demo data set (idempotent; development only).
// Run with `tsx --conditions=react-server` so modules marked "server-only" load.

const REFUSAL =
  "Refusing to seed: NODE_ENV=production. The seed creates demo users with published passwords " +
  "and fake payouts; run it against a development database only.";

async function main(): Promise<number> {
  // Checked before anything else is loaded: production configuration must not even be parsed here.
  if (process.env.NODE_ENV === "production") {
    console.error(REFUSAL);
    return 1;
  }

  const { getEnv } = await import("../lib/env.ts");
  const { createPrismaClient } = await import("../lib/db.ts");
  const { seedDemoData } = await import("../lib/seed/seed-demo-data.ts");
  const { DEMO_USERS } = await import("../lib/seed/demo-users.ts");

  const { DATABASE_URL } = getEnv();
  const url = new URL(DATABASE_URL);
  console.log(`Seeding ${url.hostname}:${url.port || 5432}${url.pathname}`);

  const db = createPrismaClient(DATABASE_URL);
  try {
    const summary = await seedDemoData(db, { log: (message) => console.log(`  ${message}`) });
    if (summary.created) {
      const statuses = Object.entries(summary.payouts)
        .map(([status, count]) => `${status} ${count}`)
        .join(", ");
      console.log(`Created ${summary.providers} providers, ${summary.bookings} bookings.`);
      console.log(`Payouts: ${statuses}.`);
      console.log(
        `Tips: ${summary.tips.accepted} accepted, ${summary.tips.rejected} rejected. ` +
          `Disputes: ${summary.disputes.open} open, ${summary.disputes.resolved} resolved. ` +
          `Transfer attempts: ${summary.transferAttempts}. Alerts: ${summary.alerts}. Audit entries: ${summary.auditEntries}.`,
      );
      console.log(
        `Audit log: ${summary.auditSealed} entries sealed; chain ${summary.auditChainIntact ? "verified intact" : "BROKEN (npm run audit:verify)"}.`,
      );
    } else {
      console.log("Demo data already present: nothing new created.");
    }
    console.log(`Demo users created: ${summary.users}. Sign in with:`);
    for (const user of DEMO_USERS) console.log(`  ${user.role.padEnd(8)} ${user.email} / ${user.password}`);
    console.log(`Done in ${summary.durationMs} ms.`);
    return 0;
  } finally {
    await db.$disconnect();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
