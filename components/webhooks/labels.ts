import type { TBadgeTone } from "@/components/ui/status-badge";
import type { WebhookEventStatus, WebhookSource } from "@/generated/prisma/enums";

export const DELIVERY_STATUS_LABELS: Record<WebhookEventStatus, string> = {
  received: "Received",
  processed: "Processed",
  deferred: "Deferred",
  ignored: "Ignored",
  failed: "Failed",
};

export const DELIVERY_STATUS_TONES: Record<WebhookEventStatus, TBadgeTone> = {
  received: "info",
  processed: "success",
  deferred: "warning",
  ignored: "neutral",
  failed: "danger",
};

export const DELIVERY_SOURCE_LABELS: Record<WebhookSource, string> = { booking_platform: "Booking platform", stripe: "Stripe" };
