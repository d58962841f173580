// Every event the payout engine sends or receives, typed once with zod. Timestamps are
// ISO strings (Inngest schemas may not transform). Event data carries what the handling
// service needs, so a function can (re)apply it idempotently.
import { eventType } from "inngest";
import { z } from "zod";

const ZId = z.string().min(1).max(191);
const ZUuid = z.uuid();
const ZIso = z.iso.datetime({ offset: true });
const ZMinor = z.number().int().nonnegative();

export const bookingCompleted = eventType("booking/completed", {
  schema: z.object({ bookingId: ZUuid }),
});

export const bookingCancelled = eventType("booking/cancelled", {
  schema: z.object({ bookingId: ZUuid }),
});

export const tipAdded = eventType("tip/added", {
  schema: z.object({ tipId: ZUuid, bookingId: ZUuid }),
});

export const disputeOpened = eventType("dispute/opened", {
  schema: z.object({ disputeId: ZUuid, bookingId: ZUuid }),
});

export const disputeResolved = eventType("dispute/resolved", {
  schema: z.object({ disputeId: ZUuid, bookingId: ZUuid, refundedAmount: ZMinor }),
});

export const chargeRefunded = eventType("charge/refunded", {
  schema: z.object({ bookingId: ZUuid, chargeRefundId: ZUuid }),
});

export const payoutTransferRequested = eventType("payout/transfer.requested", {
  schema: z.object({ payoutId: ZUuid, reason: z.string().max(200) }),
});

export const payoutReversalRequested = eventType("payout/reversal.requested", {
  schema: z.object({ reversalId: ZUuid, payoutId: ZUuid }),
});

export const payoutRepaymentRequested = eventType("payout/repayment.requested", {
  schema: z.object({ repaymentId: ZUuid, payoutId: ZUuid }),
});

export const payoutTopUpRequested = eventType("payout/top-up.requested", {
  schema: z.object({ transferId: ZUuid, payoutId: ZUuid }),
});

export const payoutAdminAction = eventType("payout/admin.action", {
  schema: z.object({ payoutId: ZUuid, action: z.string().max(50), actorId: ZId, at: ZIso }),
});

/** An alert notification (lib/notifications/) to send when due, retried with backoff until sent or given up. */
export const alertNotificationDue = eventType("alert/notification.due", {
  schema: z.object({ notificationId: ZUuid }),
});

export const ENGINE_EVENTS = {
  "booking/completed": bookingCompleted,
  "booking/cancelled": bookingCancelled,
  "tip/added": tipAdded,
  "dispute/opened": disputeOpened,
  "dispute/resolved": disputeResolved,
  "charge/refunded": chargeRefunded,
  "payout/transfer.requested": payoutTransferRequested,
  "payout/reversal.requested": payoutReversalRequested,
  "payout/repayment.requested": payoutRepaymentRequested,
  "payout/top-up.requested": payoutTopUpRequested,
  "payout/admin.action": payoutAdminAction,
  "alert/notification.due": alertNotificationDue,
} as const;

export type TEngineEventName = keyof typeof ENGINE_EVENTS;

type TSchemaOf<E> = E extends { schema: infer S } ? S : never;

/** The data of an engine event, as its zod schema describes it. */
export type TEngineEventData<N extends TEngineEventName> = z.infer<TSchemaOf<(typeof ENGINE_EVENTS)[N]> & z.ZodType>;
