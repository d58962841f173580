import "server-only";

import { z } from "zod";

import type { WebhookEvent } from "@/generated/prisma/client";
import { ZReason } from "@/lib/audit/reason";
import type { TActor } from "@/lib/audit/record-audit";
import { recordAudit } from "@/lib/audit/record-audit";
import { ConflictError } from "@/lib/errors";
import { withOutboxPublishing } from "@/lib/outbox/after-commit";
import { getDeliveryOrThrow, toDeliveryDetail, type TRedriveResult } from "@/lib/webhooks/list-deliveries";
import { REDRIVABLE_STATUSES } from "@/lib/webhooks/list-deliveries-filter";
import { storedOutcome } from "@/lib/webhooks/store-delivery";
import type { TApplyOutcome, TWebhookDeps } from "@/lib/webhooks/types";

import { applyInOrder, laneKeyOf } from "./apply-in-order";
import { processDelivery, sendWithDeadline } from "./process-delivery";
import { STALE_DELIVERY_MS } from "./reapply-stale-deliveries";

/** The optional body of POST …/redrive: why the operator re-drives it (kept in the audit log). */
export const ZRedriveInput = z.object({ reason: ZReason.optional() }).strict();

export type TRedriveInput = z.infer<typeof ZRedriveInput>;

/**
 * An operator re-applies a stored delivery that did not go through (failed, deferred, or
 * left `received` by a crash), whatever its source: the same path as on arrival, so the
 * services' idempotency makes a repeated re-drive harmless. Only REDRIVABLE_STATUSES (the
 * rule the Webhooks page shows the button by): a processed or ignored delivery is refused (409). The re-drive is audited with who asked, why (the optional
 * reason) and what came of it.
 */
export async function redriveDelivery(deps: TWebhookDeps, input: { id: string; actor: TActor; reason?: string }): Promise<TRedriveResult> {
  const before = await getDeliveryOrThrow(deps.db, input.id);
  if (!REDRIVABLE_STATUSES.includes(before.status)) {
    throw new ConflictError(`Delivery ${before.id} is already ${before.status}; there is nothing to re-apply.`, {
      deliveryId: before.id,
      status: before.status,
    });
  }
  // The events the apply wrote besides the delivery's own (a reversal request) are sent once it is done.
  const outcome = await withOutboxPublishing(
    deps.db,
    () => (before.status === "received" ? redriveReceived(deps, before) : processDelivery(deps, before)),
    { send: sendWithDeadline },
  );
  const after = await getDeliveryOrThrow(deps.db, input.id);
  await deps.db.$transaction(async (tx) => {
    await recordAudit(tx, {
      actor: input.actor,
      action: "webhook_event.redriven",
      entityType: "webhook_event",
      entityId: before.id,
      reason: input.reason ?? `re-drive of ${before.source} ${before.type} ${before.externalId}`,
      before: {
        source: before.source,
        type: before.type,
        externalId: before.externalId,
        status: before.status,
        error: before.error,
        applyAttempts: before.applyAttempts,
      },
      after: { status: after.status, error: after.error, applyAttempts: after.applyAttempts },
    });
  });
  return { delivery: toDeliveryDetail(after), outcome };
}

/**
 * A delivery still `received` is applied in its lane, like on arrival, never beside it: one
 * received moments ago is waiting its turn there (409 until it has waited STALE_DELIVERY_MS,
 * when its server may have died), and a lane another server is applying is left to it (409
 * unless that server has applied it meanwhile).
 */
async function redriveReceived(deps: TWebhookDeps, delivery: WebhookEvent): Promise<TApplyOutcome> {
  const now = deps.clock?.now() ?? new Date();
  const waited = now.getTime() - delivery.receivedAt.getTime();
  if (waited < STALE_DELIVERY_MS) {
    throw new ConflictError(
      `Delivery ${delivery.id} was received ${Math.max(0, Math.round(waited / 1000))} s ago and is waiting its turn to be applied; re-drive it if it is still received after ${STALE_DELIVERY_MS / 60_000} minutes.`,
      { deliveryId: delivery.id, status: delivery.status },
    );
  }
  await applyInOrder(deps, laneKeyOf(delivery));
  const outcome = storedOutcome(await getDeliveryOrThrow(deps.db, delivery.id));
  if (!outcome) {
    throw new ConflictError(`Delivery ${delivery.id} is being applied now in its booking's lane; look again in a moment.`, {
      deliveryId: delivery.id,
      status: delivery.status,
    });
  }
  return outcome;
}
