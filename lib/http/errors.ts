// Refusals of a request body, for every endpoint that reads one (webhooks, admin routes and
// next-auth's); lib/api/respond.ts maps them like every AppError. One class and one wording per
// refusal, whichever endpoint refuses.
import { AppError } from "@/lib/errors";

/** "65536 bytes (64 KB)" */
function describeLimit(limitBytes: number): string {
  return limitBytes % 1024 === 0 ? `${limitBytes} bytes (${limitBytes / 1024} KB)` : `${limitBytes} bytes`;
}

/** The body is larger than the endpoint accepts. Checked before any hashing or parsing. */
export class PayloadTooLargeError extends AppError {
  override name = "PayloadTooLargeError";
  constructor(limitBytes: number) {
    super("payload_too_large", `The request body is too large: this endpoint accepts at most ${describeLimit(limitBytes)}.`, 413, {
      limitBytes,
    });
  }
}

/** The body is not declared as one of the media types the endpoint reads. */
export class UnsupportedMediaTypeError extends AppError {
  override name = "UnsupportedMediaTypeError";
  constructor(contentType: string | null, accepted: readonly string[] = ["application/json"]) {
    const send = `send ${accepted.join(" or ")}`;
    super(
      "unsupported_media_type",
      contentType ? `Content-Type ${contentType} is not supported; ${send}.` : `Content-Type is missing; ${send}.`,
      415,
      { accepted: [...accepted] },
    );
  }
}
