import "server-only";

import type { Db } from "@/lib/db";

/** Where a message stands, for the engine: its status, and when it may next be tried (due, and no other sender's claim). */
export async function notificationState(db: Db, notificationId: string): Promise<{ status: string; wakeAt: string } | null> {
  const row = await db.alertNotification.findUnique({
    where: { id: notificationId },
    select: { status: true, dueAt: true, claimedUntil: true },
  });
  if (!row) return null;
  const wakeAt = Math.max(row.dueAt.getTime(), row.claimedUntil?.getTime() ?? 0);
  return { status: row.status, wakeAt: new Date(wakeAt).toISOString() };
}
