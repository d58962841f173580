// Stripe's payloads are signed, but their shape depends on the API version the endpoint
// is pinned to: each handler checks the fields it uses, so a surprise is a clear failed
// delivery (kept for re-drive) rather than a TypeError halfway through.
import { z } from "zod";

import { ValidationError } from "@/lib/errors";

export const ZStripeId = z.string().trim().min(1).max(255);

export function parseStripeObject<S extends z.ZodType>(schema: S, object: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(object);
  if (parsed.success) return parsed.data;
  throw new ValidationError(`The Stripe ${what} in the event does not have the expected shape.`, {
    issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
  });
}
