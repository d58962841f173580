// Client side of re-driving a stored webhook delivery through the admin API
// (POST /api/admin/webhook-deliveries/[id]/redrive, operator role, with a reason).
import { sendJson } from "@/lib/api/client";

export const webhookDeliveryKeys = {
  all: ["webhook-deliveries"] as const,
  detail: (id: string) => [...webhookDeliveryKeys.all, "detail", id] as const,
};

export function redriveDeliveryUrl(id: string): string {
  return `/api/admin/webhook-deliveries/${encodeURIComponent(id)}/redrive`;
}

/** The endpoint answers `{ delivery, outcome }`; only the statuses are read here. */
export type TRedriveAnswer = { delivery?: { status?: string }; outcome?: { status?: string } };

export function redriveDeliveryRequest(id: string, reason: string): Promise<TRedriveAnswer> {
  return sendJson<TRedriveAnswer>(redriveDeliveryUrl(id), { reason });
}
