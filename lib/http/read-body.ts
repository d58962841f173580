import { PayloadTooLargeError, UnsupportedMediaTypeError } from "./errors";

/** The largest webhook body accepted: 256 KB. */
export const MAX_WEBHOOK_BODY_BYTES = 256 * 1024;

/**
 * Reads a request's raw body, refusing more than `limitBytes`: a declared Content-Length
 * above the limit is refused before reading, and the limit is enforced again while
 * reading (the header may be absent or wrong), so at most `limitBytes` + one chunk is
 * ever held in memory. Returns the exact bytes received, for signature verification.
 */
export async function readRawBody(request: Request, limitBytes: number = MAX_WEBHOOK_BODY_BYTES): Promise<Uint8Array<ArrayBuffer>> {
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > limitBytes) {
    await request.body?.cancel().catch(() => undefined);
    throw new PayloadTooLargeError(limitBytes);
  }
  if (!request.body) return new Uint8Array(0);

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      await reader.cancel().catch(() => undefined);
      throw new PayloadTooLargeError(limitBytes);
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** The request's media type without parameters, lower case ("application/json"); null when none is declared. */
export function mediaTypeOf(request: Request): string | null {
  const mediaType = request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  return mediaType ? mediaType : null;
}

/** Refuses a body not declared as one of `accepted` (any parameters such as charset): 415. */
export function assertContentType(request: Request, accepted: readonly string[]): void {
  const mediaType = mediaTypeOf(request);
  if (mediaType === null || !accepted.includes(mediaType))
    throw new UnsupportedMediaTypeError(request.headers.get("content-type"), accepted);
}

/** Refuses a body not declared as JSON (`application/json`, any parameters such as charset). */
export function assertJsonContentType(request: Request): void {
  assertContentType(request, ["application/json"]);
}
