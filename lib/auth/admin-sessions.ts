// Server-side session records. Plain TypeScript without "server-only", so scripts (create-user)
// and the users' use cases can revoke sessions inside their own transactions.
import type { AdminRole } from "@/generated/prisma/enums";
import type { Db, Tx } from "@/lib/db";

/** A session lasts this long after it was last seen (the JWT's maxAge is the same). */
export const SESSION_MAX_AGE_SECONDS = 12 * 60 * 60;

/** `lastSeenAt` (and the sliding expiry with it) is written at most this often per session. */
export const SESSION_TOUCH_MS = 60_000;

export type TSessionRevokeReason = "sign_out" | "sign_out_everywhere" | "disabled" | "role_changed" | "password_changed";

export type TSessionContext = { userAgent: string | null; address: string };

const expiryFrom = (now: Date) => new Date(now.getTime() + SESSION_MAX_AGE_SECONDS * 1000);

/** Records a new session for a user who just signed in; its id goes into the JWT as `sid`. */
export async function createAdminSession(tx: Tx | Db, userId: string, context: TSessionContext, now: Date): Promise<string> {
  const session = await tx.adminSession.create({
    data: {
      userId,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: expiryFrom(now),
      userAgent: context.userAgent ? context.userAgent.slice(0, 255) : null,
      address: context.address.slice(0, 64),
    },
    select: { id: true },
  });
  return session.id;
}

export type TActiveSession = {
  id: string;
  user: { id: string; email: string; name: string; role: AdminRole; sessionVersion: number };
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type TSessionRow = {
  id: string;
  revokedAt: Date | null;
  expiresAt: Date;
  lastSeenAt: Date;
  userId: string;
  email: string;
  name: string;
  role: AdminRole;
  sessionVersion: number;
  disabledAt: Date | null;
};

/**
 * The session with this id when it is still valid: not revoked, not expired, its user not
 * disabled. One indexed look-up joined with the user, in one statement (every page and API
 * request makes it before anything else). Refreshes `lastSeenAt` and the sliding expiry at most
 * once a minute.
 */
export async function findActiveSession(db: Db, sessionId: unknown, now: Date = new Date()): Promise<TActiveSession | null> {
  if (typeof sessionId !== "string" || !UUID.test(sessionId)) return null;
  const [session] = await db.$queryRaw<TSessionRow[]>`
    SELECT s.id::text, s."revokedAt", s."expiresAt", s."lastSeenAt",
           u.id::text AS "userId", u.email, u.name, u.role::text AS role, u."sessionVersion", u."disabledAt"
    FROM "AdminSession" s JOIN "AdminUser" u ON u.id = s."userId"
    WHERE s.id = ${sessionId}::uuid`;
  if (!session || session.revokedAt || session.expiresAt <= now || session.disabledAt) return null;
  if (now.getTime() - session.lastSeenAt.getTime() >= SESSION_TOUCH_MS) {
    await db.adminSession.updateMany({
      where: { id: session.id, revokedAt: null },
      data: { lastSeenAt: now, expiresAt: expiryFrom(now) },
    });
  }
  const { userId: id, email, name, role, sessionVersion } = session;
  return { id: session.id, user: { id, email, name, role, sessionVersion } };
}

/** Ends one session (sign-out). Idempotent: a session already ended keeps its first reason. */
export async function revokeSession(db: Tx | Db, sessionId: string, reason: TSessionRevokeReason, now: Date = new Date()): Promise<void> {
  if (!UUID.test(sessionId)) return;
  await db.adminSession.updateMany({ where: { id: sessionId, revokedAt: null }, data: { revokedAt: now, revokedReason: reason } });
}

/**
 * Ends every open session of a user (sign-out everywhere, disable, role or password change), in
 * the caller's transaction when given one. Returns how many were open.
 */
export async function revokeAllSessions(
  db: Tx | Db,
  userId: string,
  reason: TSessionRevokeReason,
  now: Date = new Date(),
): Promise<number> {
  const { count } = await db.adminSession.updateMany({
    where: { userId, revokedAt: null },
    data: { revokedAt: now, revokedReason: reason },
  });
  return count;
}

/** Sessions that ended or expired more than a day ago are deleted when someone signs in. */
export async function pruneOldSessions(db: Db, now: Date): Promise<void> {
  const before = new Date(now.getTime() - 24 * 60 * 60_000);
  await db.adminSession.deleteMany({ where: { OR: [{ expiresAt: { lt: before } }, { revokedAt: { lt: before } }] } });
}
