// The reason a person gives for an audited change: one rule for the forms, the routes and the
// services. No server imports, so client forms share it.
import { storableText } from "@/lib/http/storable-text";

export const MIN_REASON_LENGTH = 3;
export const MAX_REASON_LENGTH = 500;

export const ZReason = storableText()
  .trim()
  .min(MIN_REASON_LENGTH, `Give a reason (at least ${MIN_REASON_LENGTH} characters).`)
  .max(MAX_REASON_LENGTH, `The reason is too long (at most ${MAX_REASON_LENGTH} characters).`);
