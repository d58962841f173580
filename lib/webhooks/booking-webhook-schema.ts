// The booking platform's webhook body: { id, type, createdAt, data }, amounts as integers
// in the currency's minor unit. Every object is strict: an unknown field is an error, so a
// contract change is noticed rather than silently dropped.
import { z } from "zod";

import { ValidationError } from "@/lib/errors";
import { MAX_AMOUNT_MINOR } from "@/lib/money/money";

import { findUnstorableText } from "./storable-text";

const ZExternalId = z.string().trim().min(1, "must not be empty").max(191, "must be at most 191 characters");
const ZIsoDateTime = z.iso.datetime({ offset: true, error: "must be an ISO-8601 date-time with a time zone (e.g. 2026-11-24T10:00:00Z)" });
const ZCurrency = z.string().regex(/^[A-Za-z]{3}$/, "must be a three-letter ISO 4217 currency code");
const ZAmount = z
  .number({ error: (iss) => (iss.input === undefined ? "is required" : "must be an integer number of minor units") })
  .int("must be an integer number of minor units")
  .min(0, "must not be negative")
  .max(MAX_AMOUNT_MINOR, `must be at most ${MAX_AMOUNT_MINOR}`);
/** The Stripe charge (ch_…, py_…) or PaymentIntent (pi_…) that paid; a pi_ here is taken as the PaymentIntent. */
const ZChargeId = z.string().trim().min(1).max(255).nullish();
const ZPaymentIntentId = z
  .string()
  .trim()
  .regex(/^pi_[A-Za-z0-9]+$/, "must be a Stripe PaymentIntent id (pi_…)")
  .max(255)
  .nullish();

/** A chargeId of pi_… and a paymentIntentId that names another PaymentIntent contradict each other. */
function samePaymentIntent(d: { chargeId?: string | null; paymentIntentId?: string | null }): boolean {
  return !(d.chargeId?.startsWith("pi_") && d.paymentIntentId && d.chargeId !== d.paymentIntentId);
}
const CONTRADICTION = { path: ["paymentIntentId"], message: "names another PaymentIntent than chargeId" };

/** The charge and PaymentIntent a payment names: a pi_ sent as chargeId is the PaymentIntent. */
export function paymentIdsOf(d: { chargeId?: string | null; paymentIntentId?: string | null }): {
  stripeChargeId: string | null;
  stripePaymentIntentId: string | null;
} {
  const chargeId = d.chargeId ?? null;
  if (chargeId?.startsWith("pi_")) return { stripeChargeId: null, stripePaymentIntentId: chargeId };
  return { stripeChargeId: chargeId, stripePaymentIntentId: d.paymentIntentId ?? null };
}

export const ZBookingWebhookCompletedData = z
  .object({
    bookingId: ZExternalId,
    completedAt: ZIsoDateTime,
    currency: ZCurrency,
    providerShare: ZAmount,
    chargeId: ZChargeId,
    paymentIntentId: ZPaymentIntentId,
    provider: z
      .object({
        id: ZExternalId,
        name: z.string().trim().min(1, "must not be empty").max(255),
        email: z.email("must be an email address").max(320),
        stripeAccountId: z
          .string()
          .regex(/^acct_[A-Za-z0-9]+$/, "must be a Stripe account id (acct_…)")
          .max(255)
          .nullish(),
      })
      .strict(),
  })
  .strict()
  .refine(samePaymentIntent, CONTRADICTION);

export const ZBookingWebhookCancelledData = z
  .object({
    bookingId: ZExternalId,
    cancelledAt: ZIsoDateTime,
    reason: z.string().trim().min(1, "must not be empty").max(1000),
  })
  .strict();

export const ZBookingWebhookTipData = z
  .object({
    tipId: ZExternalId,
    bookingId: ZExternalId,
    amount: ZAmount.min(1, "a tip must be more than zero"),
    currency: ZCurrency,
    createdAt: ZIsoDateTime,
    chargeId: ZChargeId,
    paymentIntentId: ZPaymentIntentId,
  })
  .strict()
  .refine(samePaymentIntent, CONTRADICTION);

export const ZBookingWebhookDisputeOpenedData = z
  .object({
    disputeId: ZExternalId,
    bookingId: ZExternalId,
    reason: z.string().trim().min(1, "must not be empty").max(1000),
    openedAt: ZIsoDateTime,
    scope: z.enum(["booking", "tip", "both"]),
  })
  .strict();

export const ZBookingWebhookDisputeResolvedData = z
  .object({
    disputeId: ZExternalId,
    bookingId: ZExternalId,
    resolvedAt: ZIsoDateTime,
    outcome: z.enum(["provider_won", "customer_won", "partial"]),
    refundedAmount: ZAmount,
  })
  .strict()
  .refine((d) => d.outcome !== "provider_won" || d.refundedAmount === 0, {
    path: ["refundedAmount"],
    message: "must be 0 when the provider won",
  });

const envelope = {
  id: z.string().trim().min(1, "must not be empty").max(255, "must be at most 255 characters"),
  createdAt: ZIsoDateTime,
};

export const ZBookingWebhookCompleted = z
  .object({ ...envelope, type: z.literal("booking.completed"), data: ZBookingWebhookCompletedData })
  .strict();
export const ZBookingWebhookCancelled = z
  .object({ ...envelope, type: z.literal("booking.cancelled"), data: ZBookingWebhookCancelledData })
  .strict();
export const ZBookingWebhookTipCreated = z.object({ ...envelope, type: z.literal("tip.created"), data: ZBookingWebhookTipData }).strict();
export const ZBookingWebhookDisputeOpened = z
  .object({ ...envelope, type: z.literal("dispute.opened"), data: ZBookingWebhookDisputeOpenedData })
  .strict();
export const ZBookingWebhookDisputeResolved = z
  .object({ ...envelope, type: z.literal("dispute.resolved"), data: ZBookingWebhookDisputeResolvedData })
  .strict();

export const BOOKING_WEBHOOK_TYPES = [
  "booking.completed",
  "booking.cancelled",
  "tip.created",
  "dispute.opened",
  "dispute.resolved",
] as const;

/** The envelope alone, checked first so that all its problems are reported together. */
export const ZBookingWebhookEnvelope = z
  .object({
    ...envelope,
    type: z.enum(BOOKING_WEBHOOK_TYPES, { error: `must be one of ${BOOKING_WEBHOOK_TYPES.join(", ")}` }),
    data: z.record(z.string(), z.unknown(), { error: "must be an object" }),
  })
  .strict();

export const ZBookingWebhook = z.discriminatedUnion("type", [
  ZBookingWebhookCompleted,
  ZBookingWebhookCancelled,
  ZBookingWebhookTipCreated,
  ZBookingWebhookDisputeOpened,
  ZBookingWebhookDisputeResolved,
]);

export type TBookingWebhook = z.infer<typeof ZBookingWebhook>;
export type TBookingWebhookType = TBookingWebhook["type"];

export type TFieldIssue = { path: string; message: string };

function requiredOr(iss: z.core.$ZodRawIssue): string | undefined {
  return iss.code === "invalid_type" && iss.input === undefined ? "is required" : undefined;
}

function toIssues(error: z.ZodError): TFieldIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message }));
}

/**
 * Validates a parsed JSON body against the contract. Throws ValidationError (400) with
 * every field error as `{ path, message }` (paths like "data.amount"). Text must also be
 * storable: a NUL character or an unpaired UTF-16 surrogate (valid JSON escapes that
 * PostgreSQL refuses) is a field error too, anywhere in the body.
 */
export function parseBookingWebhook(json: unknown): TBookingWebhook {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ValidationError("The body must be a JSON object.", { issues: [{ path: "", message: "must be a JSON object" }] });
  }
  const textIssues = findUnstorableText(json);
  const head = ZBookingWebhookEnvelope.safeParse(json, { error: requiredOr });
  if (!head.success) throw new ValidationError("The webhook body is invalid.", { issues: [...toIssues(head.error), ...textIssues] });
  const full = ZBookingWebhook.safeParse(json, { error: requiredOr });
  if (!full.success || textIssues.length > 0) {
    throw new ValidationError(`The ${head.data.type} body is invalid.`, {
      issues: [...(full.success ? [] : toIssues(full.error)), ...textIssues],
    });
  }
  return full.data;
}
