import "server-only";

import { Prisma } from "@/generated/prisma/client";
import type { Db } from "@/lib/db";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";

import { composeMessage, chatBody, type TMessageAlert } from "./compose-message";
import type { TNotificationConfig } from "./config";
import { notificationEventId } from "./route-alerts";
import { MAX_NOTIFICATION_ATTEMPTS, retryDelayMs } from "./routing";
import { postChat, SEND_TIMEOUT_MS, sendEmail } from "./transports";

/** A sender's claim on a message: longer than a send may take (SEND_TIMEOUT_MS per stage), so no one else sends it meanwhile. */
export const NOTIFICATION_LEASE_MS = 4 * SEND_TIMEOUT_MS;

export type TSendOutcome = {
  id: string;
  channel: "email" | "chat";
  outcome: "sent" | "retry" | "failed";
  error?: string;
  eventId?: string;
};

type TClaimed = {
  id: string;
  channel: "email" | "chat";
  kind: "critical" | "digest" | "test";
  groupKey: string;
  windowStartAt: Date;
  attempts: number;
  claimToken: string;
  requestedById: string | null;
};

/**
 * Sends the messages that are due (all, or just `ids`), each once: they are first claimed for
 * NOTIFICATION_LEASE_MS (FOR UPDATE SKIP LOCKED, one statement, a token per claim), so an
 * after-commit attempt, the engine and the sweep racing each other send disjoint sets. Each
 * attempt is recorded on its message, under its claim's token: sent; or failed with the error,
 * due again after a backoff with an engine event for the retry (the outbox); or, after
 * MAX_NOTIFICATION_ATTEMPTS, failed for good. Returns what happened to each; the caller
 * publishes the retry events after this returns (their rows are committed).
 */
export async function sendDueNotifications(
  db: Db,
  config: TNotificationConfig,
  options: { now?: Date; ids?: string[]; limit?: number } = {},
): Promise<TSendOutcome[]> {
  const now = options.now ?? new Date();
  if (options.ids?.length === 0) return [];
  const only = options.ids ? Prisma.sql`AND id = ANY(${options.ids}::uuid[])` : Prisma.empty;
  const claimed = await db.$queryRaw<TClaimed[]>`
    UPDATE "AlertNotification"
    SET "claimedUntil" = clock_timestamp() + ${NOTIFICATION_LEASE_MS} * interval '1 millisecond', "claimToken" = gen_random_uuid()
    WHERE id IN (
      SELECT id FROM "AlertNotification"
      WHERE status = 'pending' AND "dueAt" <= ${now}
        AND ("claimedUntil" IS NULL OR "claimedUntil" < clock_timestamp()) ${only}
      ORDER BY "dueAt", id
      LIMIT ${options.limit ?? 50}
      FOR UPDATE SKIP LOCKED)
    RETURNING id::text AS id, channel::text AS channel, kind::text AS kind, "groupKey", "windowStartAt", attempts,
              "claimToken"::text AS "claimToken", "requestedById"::text AS "requestedById"`;
  const outcomes: TSendOutcome[] = [];
  for (const message of claimed) outcomes.push(await attempt(db, config, message, now));
  return outcomes;
}

async function attempt(db: Db, config: TNotificationConfig, message: TClaimed, now: Date): Promise<TSendOutcome> {
  let subject: string | null = null;
  try {
    const composed = composeMessage({
      kind: message.kind,
      alerts: await alertsOf(db, message.id),
      origin: config.publicOrigin,
      rollUp: message.kind === "critical" && (await sentEarlierInWindow(db, message, config.windowMs)),
      requestedBy: message.requestedById ? await nameOf(db, message.requestedById) : undefined,
    });
    subject = composed.subject.slice(0, 300);
    if (message.channel === "email") {
      if (!config.email) throw new NotConfiguredError("Email is not configured (SMTP_URL) any more");
      await sendEmail(config.email, { subject: composed.subject, text: composed.text, messageId: `<${message.id}@payouts.alerts>` });
    } else {
      if (!config.chat) throw new NotConfiguredError("The chat webhook is not configured (ALERT_CHAT_WEBHOOK_URL) any more");
      await postChat(config.chat, chatBody(composed, config.chat.format, { kind: message.kind, count: composed.alerts.length }));
    }
  } catch (error) {
    return recordFailure(db, message, now, subject, error);
  }
  const { count } = await db.alertNotification.updateMany({
    where: { id: message.id, claimToken: message.claimToken },
    data: {
      status: "sent",
      sentAt: now,
      attempts: { increment: 1 },
      lastAttemptAt: now,
      lastError: null,
      subject,
      claimedUntil: null,
      claimToken: null,
    },
  });
  if (count === 0) console.warn(`Alert notification ${message.id}: sent, but its claim had run out before it was recorded`);
  return { id: message.id, channel: message.channel, outcome: "sent" };
}

class NotConfiguredError extends Error {
  override name = "NotConfiguredError";
}

async function recordFailure(db: Db, message: TClaimed, now: Date, subject: string | null, error: unknown): Promise<TSendOutcome> {
  const text = (error instanceof Error ? error.message : String(error)).slice(0, 1000);
  const attempts = message.attempts + 1;
  // A test message is not retried: the admin who asked sees the error at once.
  const final = attempts >= MAX_NOTIFICATION_ATTEMPTS || error instanceof NotConfiguredError || message.kind === "test";
  const eventId = final ? undefined : notificationEventId(message.id, attempts);
  await db.$transaction(async (tx) => {
    const { count } = await tx.alertNotification.updateMany({
      where: { id: message.id, claimToken: message.claimToken },
      data: {
        status: final ? "failed" : "pending",
        attempts,
        lastAttemptAt: now,
        lastError: text,
        subject,
        dueAt: final ? now : new Date(now.getTime() + retryDelayMs(attempts)),
        claimedUntil: null,
        claimToken: null,
      },
    });
    if (count === 1 && eventId) {
      await enqueueEvent(tx, { name: "alert/notification.due", data: { notificationId: message.id }, eventId });
    }
  });
  return { id: message.id, channel: message.channel, outcome: final ? "failed" : "retry", error: text, ...(eventId ? { eventId } : {}) };
}

async function alertsOf(db: Db, notificationId: string): Promise<TMessageAlert[]> {
  const items = await db.alertNotificationItem.findMany({
    where: { notificationId },
    select: {
      alert: {
        select: {
          id: true,
          kind: true,
          severity: true,
          title: true,
          message: true,
          createdAt: true,
          payout: { select: { id: true, amount: true, currency: true } },
          provider: { select: { name: true } },
        },
      },
    },
  });
  return items.map((i) => i.alert).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));
}

/** Whether the kind's previous message on this channel went in the window before this one (this one is a roll-up). */
async function sentEarlierInWindow(db: Db, message: TClaimed, windowMs: number): Promise<boolean> {
  const earlier = await db.alertNotification.count({
    where: {
      id: { not: message.id },
      channel: message.channel,
      groupKey: message.groupKey,
      windowStartAt: { lt: message.windowStartAt, gte: new Date(message.windowStartAt.getTime() - windowMs) },
    },
  });
  return earlier > 0;
}

async function nameOf(db: Db, userId: string): Promise<string | undefined> {
  const user = await db.adminUser.findUnique({ where: { id: userId }, select: { name: true, email: true } });
  return user ? `${user.name} (${user.email})` : undefined;
}
