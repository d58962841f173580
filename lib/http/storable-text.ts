// Text PostgreSQL can store: it refuses the NUL character in text (and in jsonb), and a UTF-16
// surrogate without its pair has no UTF-8 form. Every text a request brings (list filters, the
// export's filter, reasons, names, notes) is checked with `storableText()`, so such a character
// is a 400 naming the parameter instead of a database error (a 500). Pure and browser-safe:
// filter forms share the schemas.
import { z } from "zod";

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `text` cannot be stored, for a person; null when it can. */
export function unstorableTextProblem(text: string): string | null {
  if (text.includes("\u0000")) return "must not contain a NUL character (\\u0000)";
  if (LONE_SURROGATE.test(text)) return "must not contain an unpaired UTF-16 surrogate (not valid Unicode)";
  return null;
}

/**
 * A string schema that refuses what PostgreSQL cannot store; chain the usual checks after it:
 * `storableText().trim().min(1).max(100)`. The issue sits at the field's path, so the 400
 * names the parameter.
 */
export function storableText(): z.ZodString {
  return z.string().superRefine((value, ctx) => {
    const problem = unstorableTextProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
}
