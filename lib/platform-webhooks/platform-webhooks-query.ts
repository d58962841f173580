// Client side of the platform webhooks admin API (admin role for changes).
import { sendJson } from "@/lib/http/client";

export type TSecretShown = { secret: string };

export function createEndpointRequest(input: { url: string; description?: string; eventTypes?: string[] }) {
  return sendJson<{ endpoint: { id: string }; secret: string }>("/api/admin/platform-webhooks", input);
}

export function updateEndpointRequest(id: string, input: { enabled: boolean; reason?: string }) {
  return sendJson<{ endpoint: { id: string } }>(`/api/admin/platform-webhooks/${encodeURIComponent(id)}`, input, "PATCH");
}

export function rotateSecretRequest(id: string, input: { graceHours: number; reason?: string }) {
  return sendJson<{ secret: string; previousExpireAt: string }>(
    `/api/admin/platform-webhooks/${encodeURIComponent(id)}/rotate-secret`,
    input,
  );
}

export function resendDeliveryRequest(id: string, reason?: string) {
  return sendJson<{ delivered: boolean; status: string; lastStatus: number | null; lastError: string | null }>(
    `/api/admin/platform-webhook-deliveries/${encodeURIComponent(id)}/resend`,
    reason ? { reason } : {},
  );
}
