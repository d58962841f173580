import "server-only";

import { recordAudit, type TActor } from "@/lib/audit/record-audit";
import { ConflictError, NotFoundError } from "@/lib/errors";

import { attemptDelivery, configEndpointFromEnv, DELIVERY_CLAIM_MS, type TDeliverDeps } from "./deliver-platform-webhooks";

export type TResendResult = {
  deliveryId: string;
  delivered: boolean;
  status: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
};

/**
 * An admin re-sends a delivery now, whatever its state (failed after 3 days, still retrying, or
 * delivered and lost by the platform): one attempt, logged as manual, with the same webhook-id
 * (the platform's idempotency key). A 2xx marks it delivered; a failure leaves its schedule as it
 * was. Claimed like any attempt, so it is never sent beside one in flight (409). Audited.
 */
export async function resendDelivery(
  deps: TDeliverDeps,
  input: { deliveryId: string; actor: TActor; reason?: string },
): Promise<TResendResult> {
  const claimed = await deps.db.$executeRaw`
    UPDATE "PlatformWebhookDelivery" SET "claimedUntil" = clock_timestamp() + ${DELIVERY_CLAIM_MS} * interval '1 millisecond'
    WHERE id = ${input.deliveryId}::uuid AND ("claimedUntil" IS NULL OR "claimedUntil" < clock_timestamp())`;
  if (claimed === 0) {
    const exists = await deps.db.platformWebhookDelivery.findUnique({ where: { id: input.deliveryId }, select: { id: true } });
    if (!exists) throw new NotFoundError("Platform webhook delivery", input.deliveryId);
    throw new ConflictError("This delivery is being sent right now; look again in a moment.", { deliveryId: input.deliveryId });
  }
  const config = deps.config === undefined ? configEndpointFromEnv() : deps.config;
  const delivered = await attemptDelivery(deps, config, input.deliveryId, { manual: true });
  const after = await deps.db.platformWebhookDelivery.findUniqueOrThrow({ where: { id: input.deliveryId }, include: { event: true } });
  await deps.db.$transaction((tx) =>
    recordAudit(tx, {
      actor: input.actor,
      action: "platform_webhook.delivery_resent",
      entityType: "platform_webhook",
      entityId: after.endpointId,
      reason: input.reason ?? `re-sent ${after.event.type} (sequence ${after.event.sequence}) of ${after.event.subjectId}`,
      after: {
        deliveryId: after.id,
        eventId: after.eventId,
        delivered,
        status: after.status,
        statusCode: after.lastStatus,
        error: after.lastError,
      },
    }),
  );
  return {
    deliveryId: after.id,
    delivered,
    status: after.status,
    attempts: after.attempts,
    lastStatus: after.lastStatus,
    lastError: after.lastError,
  };
}
