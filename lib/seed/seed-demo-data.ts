import "server-only";

import type { PrismaClient } from "@/generated/prisma/client";
import { PayoutStatus } from "@/generated/prisma/enums";
import { runAuditVerification } from "@/lib/audit-chain/run-audit-verification";
import { sealAuditLog } from "@/lib/audit-chain/seal-audit-log";
import { hashPassword } from "@/lib/auth/password";
import type { Tx } from "@/lib/db";
import { getEnv } from "@/lib/env";

import { buildDemoDataset, DEMO_MARKER_PROVIDER_EXTERNAL_ID } from "./build-demo-dataset";
import type { TAdminRef, TDemoDataset } from "./demo-dataset-types";
import { buildDemoPlatformWebhooks } from "./demo-platform-webhooks";
import { DEMO_USERS } from "./demo-users";

export type TSeedSummary = {
  /** False when the demo data set was already there (then every count below is 0). */
  created: boolean;
  /** Demo users created by this run (existing ones are left alone, passwords included). */
  users: number;
  providers: number;
  bookings: number;
  payouts: Record<PayoutStatus, number>;
  tips: { accepted: number; rejected: number };
  disputes: { open: number; resolved: number };
  transferAttempts: number;
  reversals: number;
  alerts: number;
  auditEntries: number;
  /** Audit entries this run sealed (the demo's and any written before it). */
  auditSealed: number;
  /** Whether the audit chain verified intact after the data set was created (null: nothing created, not verified). */
  auditChainIntact: boolean | null;
  durationMs: number;
};

export type TSeedOptions = {
  /** The clock the data set is built around (default: now). */
  now?: Date;
  log?: (message: string) => void;
  /** The key the audit log is sealed with (default: AUDIT_CHAIN_KEY). */
  auditChainKey?: string;
};

/** Serializes concurrent seed runs (two `npm run db:seed` at once create one data set). */
const SEED_LOCK_ID = 0x5eed_0001;

/**
 * Creates the demo users (when missing) and the demo data set (when absent), idempotently:
 * the data set is written in one transaction, so it is either all there or not at all, and a
 * second run finds its first provider and creates nothing.
 */
export async function seedDemoData(db: PrismaClient, options: TSeedOptions = {}): Promise<TSeedSummary> {
  const started = performance.now();
  const now = options.now ?? new Date();
  const log = options.log ?? (() => undefined);
  const emails = DEMO_USERS.map((u) => u.email);

  // bcrypt is slow on purpose: hash outside the transaction, and only for users that are missing.
  const existing = await db.adminUser.findMany({ where: { email: { in: emails } }, select: { email: true } });
  const present = new Set(existing.map((u) => u.email));
  const newUsers = await Promise.all(
    DEMO_USERS.filter((u) => !present.has(u.email)).map(async (u) => ({
      email: u.email,
      name: u.name,
      role: u.role,
      passwordHash: await hashPassword(u.password),
    })),
  );

  const { users, dataset } = await db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${SEED_LOCK_ID})`;
      const { count: created } =
        newUsers.length > 0 ? await tx.adminUser.createMany({ data: newUsers, skipDuplicates: true }) : { count: 0 };
      if (created > 0) log(`Created ${created} demo user(s).`);

      const marker = await tx.provider.findUnique({
        where: { externalId: DEMO_MARKER_PROVIDER_EXTERNAL_ID },
        select: { id: true },
      });
      if (marker) {
        log(`Demo data already present (provider ${DEMO_MARKER_PROVIDER_EXTERNAL_ID} exists); nothing to create.`);
        return { users: created, dataset: null };
      }

      const staff = await tx.adminUser.findMany({ where: { email: { in: emails } }, select: { id: true, name: true, email: true } });
      const buildStarted = performance.now();
      const built = buildDemoDataset({ now, admin: staffRef(staff, "admin"), operator: staffRef(staff, "operator") });
      const insertStarted = performance.now();
      await insertDataset(tx, built, now);
      log(
        `Built the data set in ${Math.round(insertStarted - buildStarted)} ms, ` +
          `inserted ${countRows(built)} rows in ${Math.round(performance.now() - insertStarted)} ms.`,
      );
      return { users: created, dataset: built };
    },
    { timeout: 120_000, maxWait: 10_000 },
  );

  // The demo's audit log is sealed and verified, as the sealer and the daily check would have it.
  const key = options.auditChainKey ?? getEnv().AUDIT_CHAIN_KEY;
  const sealed = await sealAuditLog(db, { key, wait: true });
  let auditChainIntact: boolean | null = null;
  if (dataset) {
    auditChainIntact = (await runAuditVerification(db, { key, trigger: "seed", actorLabel: "Demo seed" })).ok;
    log(`Sealed ${sealed.entries} audit entries in ${sealed.seals} seal(s); the chain verified ${auditChainIntact ? "intact" : "BROKEN"}.`);
  }

  const summary = summarize(dataset, users, Math.round(performance.now() - started), { auditSealed: sealed.entries, auditChainIntact });
  log(`Seeding finished in ${summary.durationMs} ms.`);
  return summary;
}

function staffRef(staff: TAdminRef[], role: "admin" | "operator"): TAdminRef {
  const email = DEMO_USERS.find((u) => u.role === role)?.email;
  const user = staff.find((u) => u.email === email);
  if (!user) throw new Error(`Demo ${role} user ${email ?? "(none)"} is missing`);
  return user;
}

/**
 * Bulk insert: one statement per table, the rows passed as a single JSON parameter and
 * expanded by Postgres (about 10x faster than createMany for the ~15,000 rows here). Only the
 * columns the rows carry are listed, so any other column takes its database default; the
 * CHECK constraints and triggers apply as for any insert.
 */
async function insertDataset(tx: Tx, data: TDemoDataset, now: Date): Promise<void> {
  await insertRows(tx, "Provider", data.providers);
  await insertRows(tx, "Booking", data.bookings);
  await insertRows(tx, "Payout", data.payouts);
  await insertRows(tx, "Tip", data.tips);
  await insertRows(tx, "Dispute", data.disputes);
  await insertRows(tx, "TransferAttempt", data.transferAttempts);
  await insertRows(tx, "PayoutTransfer", data.transfers);
  await insertRows(tx, "TransferReversal", data.reversals);
  await insertRows(tx, "ProviderDebt", data.debts);
  await insertRows(tx, "DebtRecovery", data.debtRecoveries);
  await insertRows(tx, "Alert", data.alerts);
  await insertRows(tx, "AlertNotification", data.notifications);
  await insertRows(tx, "AlertNotificationItem", data.notificationItems);
  await insertRows(tx, "AuditLog", data.audit);
  // What the booking platform was told of these payouts (the Platform webhooks page's log).
  const hooks = buildDemoPlatformWebhooks(data, now);
  await insertRows(tx, "PlatformWebhookEndpoint", hooks.endpoints);
  await insertRows(tx, "PlatformWebhookSecret", hooks.secrets);
  await insertRows(tx, "PlatformWebhookEvent", hooks.events);
  await insertRows(tx, "PlatformWebhookDelivery", hooks.deliveries);
  await insertRows(tx, "PlatformWebhookAttempt", hooks.attempts);
}

type TTable =
  | "Provider"
  | "Booking"
  | "Payout"
  | "Tip"
  | "Dispute"
  | "TransferAttempt"
  | "PayoutTransfer"
  | "TransferReversal"
  | "ProviderDebt"
  | "DebtRecovery"
  | "Alert"
  | "AlertNotification"
  | "AlertNotificationItem"
  | "AuditLog"
  | "PlatformWebhookEndpoint"
  | "PlatformWebhookSecret"
  | "PlatformWebhookEvent"
  | "PlatformWebhookDelivery"
  | "PlatformWebhookAttempt";

async function insertRows(tx: Tx, table: TTable, rows: readonly object[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const bad = columns.find((column) => !/^[A-Za-z]+$/.test(column));
  if (bad) throw new Error(`seed: unexpected column name ${JSON.stringify(bad)} for ${table}`);
  const list = columns.map((column) => `"${column}"`).join(", ");
  const inserted = await tx.$executeRawUnsafe(
    `INSERT INTO "${table}" (${list}) SELECT ${list} FROM json_populate_recordset(NULL::"${table}", $1::json)`,
    JSON.stringify(rows),
  );
  if (inserted !== rows.length) throw new Error(`seed: inserted ${inserted} of ${rows.length} rows into ${table}`);
}

function countRows(data: TDemoDataset): number {
  return Object.values(data).reduce((sum: number, rows: readonly unknown[]) => sum + rows.length, 0);
}

function summarize(
  data: TDemoDataset | null,
  users: number,
  durationMs: number,
  audit: Pick<TSeedSummary, "auditSealed" | "auditChainIntact">,
): TSeedSummary {
  const payouts = Object.fromEntries(Object.values(PayoutStatus).map((s) => [s, 0])) as Record<PayoutStatus, number>;
  for (const p of data?.payouts ?? []) payouts[p.status] += 1;
  const tips = data?.tips ?? [];
  const disputes = data?.disputes ?? [];
  return {
    created: data !== null,
    users,
    providers: data?.providers.length ?? 0,
    bookings: data?.bookings.length ?? 0,
    payouts,
    tips: {
      accepted: tips.filter((t) => t.status === "accepted").length,
      rejected: tips.filter((t) => t.status === "rejected").length,
    },
    disputes: {
      open: disputes.filter((d) => d.status === "open").length,
      resolved: disputes.filter((d) => d.status === "resolved").length,
    },
    transferAttempts: data?.transferAttempts.length ?? 0,
    reversals: data?.reversals.length ?? 0,
    alerts: data?.alerts.length ?? 0,
    auditEntries: data?.audit.length ?? 0,
    ...audit,
    durationMs,
  };
}
