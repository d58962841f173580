// The Alerts list's filter and the acknowledge request body; no server imports, so the
// client shares them.
import { z } from "zod";

import { storableText } from "@/lib/http/storable-text";

export const ALERT_PAGE_SIZE = 25;

export const ALERT_STATE_FILTERS = ["all", "open", "acknowledged"] as const;

export const ZAlertFilter = z
  .object({
    state: z.enum(ALERT_STATE_FILTERS).default("all"),
    page: z.coerce.number().int().min(1).max(100_000).default(1),
  })
  .strict();

export type TAlertFilter = z.infer<typeof ZAlertFilter>;

export const DEFAULT_ALERT_FILTER: TAlertFilter = { state: "all", page: 1 };

export const MAX_ACKNOWLEDGE_NOTE_LENGTH = 500;

export const ZAcknowledgeAlert = z
  .object({
    /** Optional: what was done about it (kept in the audit log). */
    note: storableText()
      .trim()
      .max(MAX_ACKNOWLEDGE_NOTE_LENGTH, `The note is too long (at most ${MAX_ACKNOWLEDGE_NOTE_LENGTH} characters).`)
      .optional()
      .transform((v) => (v ? v : undefined)),
  })
  .strict();

export type TAcknowledgeAlert = z.infer<typeof ZAcknowledgeAlert>;
/** The request body as the client sends it. */
export type TAcknowledgeAlertBody = z.input<typeof ZAcknowledgeAlert>;
