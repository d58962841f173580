import "server-only";

import { z } from "zod";

import { Prisma } from "@/generated/prisma/client";
import type { AdminRole } from "@/generated/prisma/enums";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import type { Db, Tx } from "@/lib/db";

import { TIMING_DUMMY_HASH, verifyPassword } from "./password";

/**
 * Brute-force limits. Failures count per account (the email as typed, whether or not the user
 * exists) and per client address over a rolling window; a success clears the account's count,
 * not the address's. A throttled attempt is refused before the password is checked, so it
 * tells an attacker nothing and costs no hashing.
 */
export const SIGN_IN_LIMITS = {
  windowMs: 15 * 60_000,
  failuresPerAccount: 5,
  failuresPerAddress: 30,
  /** Attempts older than this are deleted. */
  keepMs: 24 * 60 * 60_000,
} as const;

export const SIGN_IN_ERRORS = {
  invalid: "Email or password is incorrect.",
  disabled: "This account is disabled. Ask an admin to re-enable it.",
} as const;

export function throttledMessage(retryAfterSeconds: number): string {
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
  return `Too many failed sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`;
}

const ZCredentials = z.object({
  email: z.string().trim().toLowerCase().email().max(320),
  password: z.string().min(1).max(200),
});

export type TSignedInUser = { id: string; email: string; name: string; role: AdminRole; sessionVersion: number };

export type TSignInResult =
  | { ok: true; user: TSignedInUser }
  | { ok: false; reason: "invalid" | "disabled" }
  | { ok: false; reason: "throttled"; retryAfterSeconds: number };

type TCredentials = { email: unknown; password: unknown; address: string };

type TCountRow = { failures: number; unlocksAt: Date | null };

/**
 * Checks an email and password under the brute-force limits and records the attempt.
 *
 * The attempt is stored as `pending` (it counts as a failure) and the account's recent failures
 * are counted under a per-email advisory lock, so twenty parallel guesses get exactly
 * `failuresPerAccount` password checks. Per address the count is not serialised and may
 * overshoot by the number of guesses in flight at once.
 */
export async function signInWithPassword(db: Db, credentials: TCredentials, now: Date = new Date()): Promise<TSignInResult> {
  const parsed = ZCredentials.safeParse(credentials);
  if (!parsed.success) return { ok: false, reason: "invalid" };
  const { email, password } = parsed.data;
  const address = credentials.address.slice(0, 64) || "unknown";
  const windowStart = new Date(now.getTime() - SIGN_IN_LIMITS.windowMs);

  const { attemptId, retryAfterSeconds } = await db.$transaction(async (tx) => {
    await lockAccount(tx, email);
    const attempt = await tx.signInAttempt.create({ data: { email, ip: address, createdAt: now }, select: { id: true } });
    const [account, byAddress] = await Promise.all([
      countAccountFailures(tx, email, attempt.id, windowStart),
      countAddressFailures(tx, address, attempt.id, windowStart),
    ]);
    const blocking = [
      account.failures >= SIGN_IN_LIMITS.failuresPerAccount ? account.unlocksAt : null,
      byAddress.failures >= SIGN_IN_LIMITS.failuresPerAddress ? byAddress.unlocksAt : null,
    ].filter((at): at is Date => at !== null);
    if (blocking.length === 0) return { attemptId: attempt.id, retryAfterSeconds: null };
    await tx.signInAttempt.update({ where: { id: attempt.id }, data: { outcome: "throttled" } });
    const unlocksAt = Math.max(...blocking.map((at) => at.getTime() + SIGN_IN_LIMITS.windowMs));
    return { attemptId: attempt.id, retryAfterSeconds: Math.max(1, Math.ceil((unlocksAt - now.getTime()) / 1000)) };
  });
  await pruneOldAttempts(db, now);
  if (retryAfterSeconds !== null) return { ok: false, reason: "throttled", retryAfterSeconds };

  const user = await db.adminUser.findUnique({ where: { email } });
  const passwordMatches = await verifyPassword(password, user?.passwordHash ?? TIMING_DUMMY_HASH);
  if (!user || !passwordMatches || user.disabledAt) {
    await recordFailure(db, { attemptId, email, userExists: user !== null, windowStart });
    return { ok: false, reason: user && passwordMatches ? "disabled" : "invalid" };
  }

  await db.$transaction([
    db.signInAttempt.update({ where: { id: attemptId }, data: { outcome: "success" } }),
    db.adminUser.update({ where: { id: user.id }, data: { lastLoginAt: now } }),
  ]);
  return { ok: true, user: { id: user.id, email: user.email, name: user.name, role: user.role, sessionVersion: user.sessionVersion } };
}

/**
 * Failures (and attempts still checking) for this email in the window since its last success,
 * other than `attemptId`, and when the `failuresPerAccount`-th newest of them leaves the window.
 */
function countAccountFailures(tx: Tx, email: string, attemptId: bigint, windowStart: Date): Promise<TCountRow> {
  const sinceLastSuccess = Prisma.sql`"id" > COALESCE((SELECT max("id") FROM "SignInAttempt" WHERE "email" = ${email} AND "outcome" = 'success'), 0)`;
  return countFailures(tx, Prisma.sql`"email" = ${email} AND ${sinceLastSuccess}`, {
    attemptId,
    windowStart,
    limit: SIGN_IN_LIMITS.failuresPerAccount,
  });
}

/** The same for a client address (a success does not clear it). */
function countAddressFailures(tx: Tx, address: string, attemptId: bigint, windowStart: Date): Promise<TCountRow> {
  return countFailures(tx, Prisma.sql`"ip" = ${address}`, { attemptId, windowStart, limit: SIGN_IN_LIMITS.failuresPerAddress });
}

async function countFailures(
  tx: Tx,
  scope: Prisma.Sql,
  input: { attemptId: bigint; windowStart: Date; limit: number },
): Promise<TCountRow> {
  const [row] = await tx.$queryRaw<TCountRow[]>`
    WITH counted AS (
      SELECT "createdAt" FROM "SignInAttempt"
      WHERE ${scope} AND "createdAt" > ${input.windowStart} AND "id" <> ${input.attemptId}
        AND "outcome" IN ('pending', 'failure')
    )
    SELECT count(*)::int AS "failures",
           (SELECT "createdAt" FROM counted ORDER BY "createdAt" DESC OFFSET ${input.limit - 1} LIMIT 1) AS "unlocksAt"
    FROM counted`;
  return row ?? { failures: 0, unlocksAt: null };
}

/**
 * Marks the attempt failed. When this failure is the one that locks an existing account, raises
 * one alert (someone may be guessing an admin's password). Serialised with the count above, so
 * exactly one failure per lock sees the limit reached.
 */
async function recordFailure(db: Db, input: { attemptId: bigint; email: string; userExists: boolean; windowStart: Date }): Promise<void> {
  await db.$transaction(async (tx) => {
    await lockAccount(tx, input.email);
    await tx.signInAttempt.update({ where: { id: input.attemptId }, data: { outcome: "failure" } });
    if (!input.userExists) return;
    const lastSuccess = await tx.signInAttempt.findFirst({
      where: { email: input.email, outcome: "success" },
      orderBy: { id: "desc" },
      select: { id: true },
    });
    const failures = await tx.signInAttempt.findMany({
      where: { email: input.email, createdAt: { gt: input.windowStart }, outcome: "failure", id: { gt: lastSuccess?.id ?? 0n } },
      select: { ip: true },
    });
    if (failures.length !== SIGN_IN_LIMITS.failuresPerAccount) return;
    const minutes = SIGN_IN_LIMITS.windowMs / 60_000;
    await raiseAlert(tx, {
      kind: "sign_in_throttled",
      severity: "warning",
      title: `Sign-in locked for ${input.email}`,
      message:
        `${failures.length} failed sign-in attempts within ${minutes} minutes from ${[...new Set(failures.map((f) => f.ip))].join(", ")}. ` +
        `Further attempts are refused until the oldest of them is ${minutes} minutes old. If this was not the user, someone may be guessing the password.`,
      dedupeKey: `sign-in-locked:${input.attemptId}`,
    });
  });
}

/** Serialises sign-in bookkeeping per account (released when the transaction ends). */
async function lockAccount(tx: Tx, email: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`sign-in:${email}`}, 0))`;
}

async function pruneOldAttempts(db: Db, now: Date): Promise<void> {
  await db.signInAttempt.deleteMany({ where: { createdAt: { lt: new Date(now.getTime() - SIGN_IN_LIMITS.keepMs) } } });
}

/**
 * The client's address for the per-address limit: `x-real-ip` (set by Vercel and most reverse
 * proxies), else the last `x-forwarded-for` hop (the one our own proxy added), else "unknown".
 */
export function clientAddress(headers: Record<string, unknown> | undefined): string {
  const header = (name: string) => {
    const value = headers?.[name];
    return typeof value === "string" ? value.trim() : "";
  };
  const realIp = header("x-real-ip");
  if (realIp) return realIp.slice(0, 64);
  const forwarded = header("x-forwarded-for")
    .split(",")
    .map((hop) => hop.trim())
    .filter(Boolean);
  return (forwarded.at(-1) ?? "unknown").slice(0, 64);
}
