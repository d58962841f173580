// Errors specific to inbound webhooks; lib/api/respond.ts maps them like every AppError.
import { AppError } from "@/lib/errors";

/** Missing, malformed, wrong or out-of-tolerance signature. Nothing is stored. */
export class WebhookSignatureError extends AppError {
  override name = "WebhookSignatureError";
  constructor(message: string) {
    super("invalid_signature", message, 401);
  }
}
