// Refusals of a request body, for every endpoint that reads one (webhooks and admin routes);
// lib/api/respond.ts maps them like every AppError.
import { AppError } from "@/lib/errors";

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
      contentType
        ? `Content-Type ${contentType} is not supported; send application/json.`
        : "Content-Type is missing; send application/json.",
      415,
    );
  }
}
