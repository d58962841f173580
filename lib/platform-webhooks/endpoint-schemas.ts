// The dashboard's inputs for the booking platform's webhook endpoints. No server imports, so the
// forms share them.
import { z } from "zod";

import { ZReason } from "@/lib/audit/reason";
import { storableText } from "@/lib/http/storable-text";

import { PLATFORM_EVENT_TYPES } from "./event-types";

/** An endpoint's URL: http or https only, no credentials in it. */
export const ZEndpointUrl = storableText()
  .trim()
  .max(2048, "The URL is too long (at most 2048 characters).")
  .refine((value) => URL.canParse(value) && ["http:", "https:"].includes(new URL(value).protocol), "Give an http:// or https:// URL.")
  .refine(
    (value) => !URL.canParse(value) || (!new URL(value).username && !new URL(value).password),
    "The URL must not contain credentials.",
  );

const ZEventTypes = z
  .array(z.enum(PLATFORM_EVENT_TYPES))
  .max(PLATFORM_EVENT_TYPES.length)
  .refine((types) => new Set(types).size === types.length, "Name each event type once.");

const ZDescription = storableText().trim().max(255, "The description is too long (at most 255 characters).");

export const ZCreateEndpoint = z
  .object({
    url: ZEndpointUrl,
    description: ZDescription.optional(),
    /** Empty or absent: every event type. */
    eventTypes: ZEventTypes.optional(),
    reason: ZReason.optional(),
  })
  .strict();
export type TCreateEndpoint = z.infer<typeof ZCreateEndpoint>;

export const ZUpdateEndpoint = z
  .object({
    enabled: z.boolean().optional(),
    url: ZEndpointUrl.optional(),
    description: ZDescription.optional(),
    eventTypes: ZEventTypes.optional(),
    reason: ZReason.optional(),
  })
  .strict()
  .refine((v) => v.enabled !== undefined || v.url !== undefined || v.description !== undefined || v.eventTypes !== undefined, {
    message: "Nothing to change.",
  });
export type TUpdateEndpoint = z.infer<typeof ZUpdateEndpoint>;

/** Hours the old secret keeps signing after a rotation (0: retired at once). */
export const MAX_GRACE_HOURS = 72;
export const DEFAULT_GRACE_HOURS = 24;

export const ZRotateSecret = z
  .object({
    graceHours: z.number().int().min(0).max(MAX_GRACE_HOURS).optional(),
    reason: ZReason.optional(),
  })
  .strict();
export type TRotateSecret = z.infer<typeof ZRotateSecret>;

export const ZResendDelivery = z.object({ reason: ZReason.optional() }).strict();
export type TResendDelivery = z.infer<typeof ZResendDelivery>;
