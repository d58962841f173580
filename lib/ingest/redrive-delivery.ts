import "server-only";

import { z } from "zod";

import { ZReason } from "@/lib/audit/reason";
import type { TActor } from "@/lib/audit/record-audit";
import { recordAudit } from "@/lib/audit/record-audit";
import { ConflictError } from "@/lib/errors";
import { getDeliveryOrThrow, toDeliveryDetail, type TRedriveResult } from "@/lib/webhooks/list-deliveries";
import { REDRIVABLE_STATUSES } from "@/lib/webhooks/list-deliveries-filter";
import type { TWebhookDeps } from "@/lib/webhooks/types";

import { processDelivery } from "./process-delivery";

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
  const outcome = await processDelivery(deps, before);
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
