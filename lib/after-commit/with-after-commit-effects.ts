import "server-only";

import type { PrismaClient } from "@/generated/prisma/client";
import { sendAlertNotificationsAfterCommit } from "@/lib/notifications/after-commit";
import { withOutboxPublishing } from "@/lib/outbox/after-commit";
import type { TSend } from "@/lib/outbox/publish-outbox";
import { withPlatformWebhooks } from "@/lib/platform-webhooks/after-commit";

/**
 * Runs `work` (which commits its own transactions), then makes the first attempt of what it
 * caused outside the database, in this process: the Inngest events it wrote to the outbox and did
 * not send itself (with `send`, inngest.send by default), the booking platform's webhooks it
 * wrote and the notifications of the alerts it raised. Also when `work` throws after some of its
 * transactions committed. Never throws itself: what fails here, the engine and the
 * reconciliation sweep try again. For the engine's steps (no step of their own publishes) and a
 * webhook delivery's apply.
 */
export async function withAfterCommitEffects<T>(db: PrismaClient, work: () => Promise<T>, options: { send?: TSend } = {}): Promise<T> {
  try {
    return await withPlatformWebhooks(db, () => withOutboxPublishing(db, work, options));
  } finally {
    await sendAlertNotificationsAfterCommit(db);
  }
}
