import "server-only";

import type { PrismaClient } from "@/generated/prisma/client";
import { sendAlertNotificationsAfterCommit } from "@/lib/notifications/after-commit";
import { withPlatformWebhooks } from "@/lib/platform-webhooks/after-commit";

/**
 * Runs `work` (which commits its own transactions), then makes the first attempt of what it
 * caused outside the database, in this process: the booking platform's webhooks it wrote and
 * the notifications of the alerts it raised. Also when `work` throws after some of its
 * transactions committed. Never throws itself: what fails here, the engine and the
 * reconciliation sweep try again. For the engine's steps.
 */
export async function withAfterCommitEffects<T>(db: PrismaClient, work: () => Promise<T>): Promise<T> {
  try {
    return await withPlatformWebhooks(db, work);
  } finally {
    await sendAlertNotificationsAfterCommit(db);
  }
}
