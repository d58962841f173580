-- Alert notifications (lib/notifications/): each alert is routed once to messages on the
-- configured channels (email, chat); a message carries one or more alerts (flood control and
-- digests) and records its attempts. Alerts raised before this migration are taken as routed,
-- so turning notifications on never sends the backlog.
ALTER TABLE "Alert" ADD COLUMN "notifyRoutedAt" TIMESTAMPTZ(3);
UPDATE "Alert" SET "notifyRoutedAt" = "createdAt";
CREATE INDEX "Alert_notifyRoutedAt_idx" ON "Alert"("notifyRoutedAt");

CREATE TYPE "NotificationChannel" AS ENUM ('email', 'chat');
CREATE TYPE "NotificationKind" AS ENUM ('critical', 'digest', 'test');
CREATE TYPE "NotificationStatus" AS ENUM ('pending', 'sent', 'failed');

CREATE TABLE "AlertNotification" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "channel" "NotificationChannel" NOT NULL,
    "kind" "NotificationKind" NOT NULL,
    "groupKey" VARCHAR(150) NOT NULL,
    "windowStartAt" TIMESTAMPTZ(3) NOT NULL,
    "dueAt" TIMESTAMPTZ(3) NOT NULL,
    "status" "NotificationStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lastError" TEXT,
    "lastAttemptAt" TIMESTAMPTZ(3),
    "sentAt" TIMESTAMPTZ(3),
    "claimedUntil" TIMESTAMPTZ(3),
    "claimToken" UUID,
    "subject" VARCHAR(300),
    "requestedById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "AlertNotification_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "AlertNotification_attempts_check" CHECK ("attempts" >= 0)
);
CREATE INDEX "AlertNotification_status_dueAt_idx" ON "AlertNotification"("status", "dueAt");
CREATE INDEX "AlertNotification_channel_groupKey_windowStartAt_idx" ON "AlertNotification"("channel", "groupKey", "windowStartAt");

CREATE TABLE "AlertNotificationItem" (
    "notificationId" UUID NOT NULL,
    "alertId" UUID NOT NULL,
    CONSTRAINT "AlertNotificationItem_pkey" PRIMARY KEY ("notificationId", "alertId")
);
CREATE INDEX "AlertNotificationItem_alertId_idx" ON "AlertNotificationItem"("alertId");
ALTER TABLE "AlertNotificationItem" ADD CONSTRAINT "AlertNotificationItem_notificationId_fkey" FOREIGN KEY ("notificationId") REFERENCES "AlertNotification"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "AlertNotificationItem" ADD CONSTRAINT "AlertNotificationItem_alertId_fkey" FOREIGN KEY ("alertId") REFERENCES "Alert"("id") ON DELETE CASCADE ON UPDATE CASCADE;
