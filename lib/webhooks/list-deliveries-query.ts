// Client side of the webhook deliveries admin API: re-driving a stored delivery
// (POST /api/admin/webhook-deliveries/:id/redrive, operator role, with a reason).
import { sendJson } from "@/lib/http/client";

import type { TRedriveResult } from "./list-deliveries";

export type { TRedriveResult };

export function redriveDeliveryUrl(id: string): string {
  return `/api/admin/webhook-deliveries/${encodeURIComponent(id)}/redrive`;
}

export function redriveDeliveryRequest(id: string, reason: string): Promise<TRedriveResult> {
  return sendJson<TRedriveResult>(redriveDeliveryUrl(id), { reason });
}
