import "server-only";

import { z } from "zod";

import { Prisma } from "@/generated/prisma/client";
import type { AdminRole } from "@/generated/prisma/enums";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import type { Db, Tx } from "@/lib/db";

import { createAdminSession, pruneOldSessions } from "./admin-sessions";
import { DIRECT_ADDRESS } from "./client-address";
import { TIMING_DUMMY_HASH, verifyPassword } from "./password";

/**
 * Brute-force limits, built so that failures never lock an account for everyone (which would
 * hand an attacker a switch to keep admins out):
 * - per account and address: a few free failures, then each failure doubles the wait before
 *   the next try from that address on that account, up to 15 minutes;
 * - per account from any address: a short wait (at most `account.maxDelayMs`) after a burst of
 *   failures, so guesses spread over many addresses stay slow while the owner elsewhere waits
 *   seconds, not minutes;
 * - per address over all accounts: a lock (one address spraying many accounts).
 * Failures count since the last success of the same scope (an address's own success clears its
 * count on that account; any success clears the account's). A throttled attempt is refused
 * before the password is checked, so it tells an attacker nothing, costs no hashing and does
 * not count. Without a trusted proxy every client is {@link DIRECT_ADDRESS}: then the per-address
 * limits would lock everybody at once, so only the bounded per-account wait applies.
 */
export const SIGN_IN_LIMITS = {
  pair: { free: 3, baseDelayMs: 15_000, maxDelayMs: 15 * 60_000, windowMs: 24 * 60 * 60_000 },
  account: { free: 5, baseDelayMs: 2_000, maxDelayMs: 30_000, windowMs: 15 * 60_000 },
  address: { failures: 30, windowMs: 15 * 60_000 },
  /** Attempts older than this are deleted. */
  keepMs: 24 * 60 * 60_000,
} as const;

type TDelayRule = { free: number; baseDelayMs: number; maxDelayMs: number };

/** The wait after the newest of `failures` failures: none for the free ones, then doubling up to the cap. */
export function delayAfter(rule: TDelayRule, failures: number): number {
  if (failures < rule.free) return 0;
  return Math.min(rule.maxDelayMs, rule.baseDelayMs * 2 ** Math.min(30, failures - rule.free));
}

export const SIGN_IN_ERRORS = {
  invalid: "Email or password is incorrect.",
  disabled: "This account is disabled. Ask an admin to re-enable it.",
} as const;

export function throttledMessage(retryAfterSeconds: number): string {
  if (retryAfterSeconds < 60) {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    return `Too many failed sign-in attempts. Try again in ${seconds} second${seconds === 1 ? "" : "s"}.`;
  }
  const minutes = Math.ceil(retryAfterSeconds / 60);
  return `Too many failed sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`;
}

const ZCredentials = z.object({
  email: z.string().trim().toLowerCase().email().max(320),
  password: z.string().min(1).max(200),
});

export type TSignedInUser = { id: string; email: string; name: string; role: AdminRole; sessionVersion: number; sessionId: string };

export type TSignInResult =
  | { ok: true; user: TSignedInUser }
  | { ok: false; reason: "invalid" | "disabled" }
  | { ok: false; reason: "throttled"; retryAfterSeconds: number };

/** `address`: a validated address from `clientAddress`, or DIRECT_ADDRESS. */
type TCredentials = { email: unknown; password: unknown; address: string; userAgent?: string | null };

type TCountRow = { failures: number; newestAt: Date | null; lockedSince: Date | null };

/**
 * Checks an email and password under the brute-force limits and records the attempt; on
 * success records the server-side session the JWT will carry.
 *
 * The attempt is stored as `pending` (it counts as a failure) and the account's recent failures
 * are counted under a per-email advisory lock, so parallel guesses on one account get at most
 * `account.free` password checks (`pair.free` from one address). Per address over all accounts
 * the count is not serialised and may overshoot by the number of guesses in flight at once.
 */
export async function signInWithPassword(db: Db, credentials: TCredentials, now: Date = new Date()): Promise<TSignInResult> {
  const parsed = ZCredentials.safeParse(credentials);
  if (!parsed.success) return { ok: false, reason: "invalid" };
  const { email, password } = parsed.data;
  const address = credentials.address.slice(0, 64) || DIRECT_ADDRESS;
  const direct = address === DIRECT_ADDRESS;

  const { attemptId, retryAfterSeconds } = await db.$transaction(async (tx) => {
    await lockAccount(tx, email);
    const attempt = await tx.signInAttempt.create({ data: { email, ip: address, createdAt: now }, select: { id: true } });
    const since = (windowMs: number) => new Date(now.getTime() - windowMs);
    const [pair, account, byAddress] = await Promise.all([
      direct ? null : countPairFailures(tx, email, address, attempt.id, since(SIGN_IN_LIMITS.pair.windowMs)),
      countAccountFailures(tx, email, attempt.id, since(SIGN_IN_LIMITS.account.windowMs)),
      direct ? null : countAddressFailures(tx, address, attempt.id, since(SIGN_IN_LIMITS.address.windowMs)),
    ]);
    const allowedAt = [
      pair ? waitUntil(pair, delayAfter(SIGN_IN_LIMITS.pair, pair.failures)) : 0,
      waitUntil(account, delayAfter(SIGN_IN_LIMITS.account, account.failures)),
      byAddress && byAddress.failures >= SIGN_IN_LIMITS.address.failures && byAddress.lockedSince
        ? byAddress.lockedSince.getTime() + SIGN_IN_LIMITS.address.windowMs
        : 0,
    ];
    const until = Math.max(...allowedAt);
    if (until <= now.getTime()) return { attemptId: attempt.id, retryAfterSeconds: null };
    await tx.signInAttempt.update({ where: { id: attempt.id }, data: { outcome: "throttled" } });
    return { attemptId: attempt.id, retryAfterSeconds: Math.max(1, Math.ceil((until - now.getTime()) / 1000)) };
  });
  await pruneOldAttempts(db, now);
  if (retryAfterSeconds !== null) return { ok: false, reason: "throttled", retryAfterSeconds };

  const user = await db.adminUser.findUnique({ where: { email } });
  const passwordMatches = await verifyPassword(password, user?.passwordHash ?? TIMING_DUMMY_HASH);
  if (!user || !passwordMatches || user.disabledAt) {
    await recordFailure(db, {
      attemptId,
      email,
      userExists: user !== null,
      windowStart: new Date(now.getTime() - SIGN_IN_LIMITS.account.windowMs),
    });
    return { ok: false, reason: user && passwordMatches ? "disabled" : "invalid" };
  }

  const sessionId = await db.$transaction(async (tx) => {
    await tx.signInAttempt.update({ where: { id: attemptId }, data: { outcome: "success" } });
    await tx.adminUser.update({ where: { id: user.id }, data: { lastLoginAt: now } });
    return createAdminSession(tx, user.id, { userAgent: credentials.userAgent ?? null, address }, now);
  });
  await pruneOldSessions(db, now);
  return {
    ok: true,
    user: { id: user.id, email: user.email, name: user.name, role: user.role, sessionVersion: user.sessionVersion, sessionId },
  };
}

/** When the next attempt may run: `delayMs` after the newest counted failure (0 without one). */
function waitUntil(row: TCountRow, delayMs: number): number {
  return delayMs > 0 && row.newestAt ? row.newestAt.getTime() + delayMs : 0;
}

/** Failures (and attempts still checking) for this email from this address since that address's last success on it. */
function countPairFailures(tx: Tx, email: string, address: string, attemptId: bigint, windowStart: Date): Promise<TCountRow> {
  const sinceLastSuccess = Prisma.sql`"id" > COALESCE((SELECT max("id") FROM "SignInAttempt" WHERE "email" = ${email} AND "ip" = ${address} AND "outcome" = 'success'), 0)`;
  return countFailures(tx, Prisma.sql`"email" = ${email} AND "ip" = ${address} AND ${sinceLastSuccess}`, {
    attemptId,
    windowStart,
    lockAt: 1,
  });
}

/** Failures for this email from any address since its last success. */
function countAccountFailures(tx: Tx, email: string, attemptId: bigint, windowStart: Date): Promise<TCountRow> {
  const sinceLastSuccess = Prisma.sql`"id" > COALESCE((SELECT max("id") FROM "SignInAttempt" WHERE "email" = ${email} AND "outcome" = 'success'), 0)`;
  return countFailures(tx, Prisma.sql`"email" = ${email} AND ${sinceLastSuccess}`, { attemptId, windowStart, lockAt: 1 });
}

/** Failures from this address on any account (a success does not clear it). */
function countAddressFailures(tx: Tx, address: string, attemptId: bigint, windowStart: Date): Promise<TCountRow> {
  return countFailures(tx, Prisma.sql`"ip" = ${address}`, { attemptId, windowStart, lockAt: SIGN_IN_LIMITS.address.failures });
}

/** The count, the newest, and the `lockAt`-th newest failure in the scope and window. */
async function countFailures(
  tx: Tx,
  scope: Prisma.Sql,
  input: { attemptId: bigint; windowStart: Date; lockAt: number },
): Promise<TCountRow> {
  const [row] = await tx.$queryRaw<TCountRow[]>`
    WITH counted AS (
      SELECT "createdAt" FROM "SignInAttempt"
      WHERE ${scope} AND "createdAt" > ${input.windowStart} AND "id" <> ${input.attemptId}
        AND "outcome" IN ('pending', 'failure')
    )
    SELECT count(*)::int AS "failures", max("createdAt") AS "newestAt",
           (SELECT "createdAt" FROM counted ORDER BY "createdAt" DESC OFFSET ${input.lockAt - 1} LIMIT 1) AS "lockedSince"
    FROM counted`;
  return row ?? { failures: 0, newestAt: null, lockedSince: null };
}

/**
 * Marks the attempt failed. When this failure is the one that starts the per-account waits of an
 * existing account, raises one alert (someone may be guessing an admin's password). Serialised
 * with the count above, so exactly one failure per burst sees the threshold reached.
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
    if (failures.length !== SIGN_IN_LIMITS.account.free) return;
    const minutes = SIGN_IN_LIMITS.account.windowMs / 60_000;
    await raiseAlert(tx, {
      kind: "sign_in_throttled",
      severity: "warning",
      title: `Repeated failed sign-ins for ${input.email}`,
      message:
        `${failures.length} failed sign-in attempts within ${minutes} minutes from ${describeAddresses(failures.map((f) => f.ip))}. ` +
        `The account is not locked: further attempts wait up to ${SIGN_IN_LIMITS.account.maxDelayMs / 1000} seconds each, ` +
        `and an address that keeps failing waits longer, up to ${SIGN_IN_LIMITS.pair.maxDelayMs / 60_000} minutes. ` +
        `If this was not the user, someone may be guessing the password.`,
      dedupeKey: `sign-in-failures:${input.attemptId}`,
    });
  });
}

/** The distinct addresses as people read them; stored addresses are validated IPs or DIRECT_ADDRESS. */
function describeAddresses(addresses: string[]): string {
  return [...new Set(addresses)].map((ip) => (ip === DIRECT_ADDRESS ? "an unknown address (no trusted proxy)" : ip)).join(", ");
}

/** Serialises sign-in bookkeeping per account (released when the transaction ends). */
async function lockAccount(tx: Tx, email: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`sign-in:${email}`}, 0))`;
}

async function pruneOldAttempts(db: Db, now: Date): Promise<void> {
  await db.signInAttempt.deleteMany({ where: { createdAt: { lt: new Date(now.getTime() - SIGN_IN_LIMITS.keepMs) } } });
}
