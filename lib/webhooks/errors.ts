// Errors specific to inbound webhooks; lib/api/respond.ts maps them like every AppError.
import { AppError } from "@/lib/errors";

/** Missing, malformed, wrong or out-of-tolerance signature. Nothing is stored. */
export class WebhookSignatureError extends AppError {
  override name = "WebhookSignatureError";
  constructor(message: string) {
    super("invalid_signature", message, 401);
  }
}

/** The body is larger than the endpoint accepts. Checked before any hashing or parsing. */
export class PayloadTooLargeError extends AppError {
  override name = "PayloadTooLargeError";
  constructor(limitBytes: number) {
    super("payload_too_large", `The body is larger than ${limitBytes} bytes.`, 413, { limitBytes });
  }
}

/** The body is not declared as JSON. */
export class UnsupportedMediaTypeError extends AppError {
  override name = "UnsupportedMediaTypeError";
  constructor(contentType: string | null) {
    super(
      "unsupported_media_type",
      contentType ? `Content-Type ${contentType} is not supported; send application/json.` : "Content-Type is missing; send application/json.",
      415,
    );
  }
}
