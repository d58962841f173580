import "server-only";

import { NotFoundError, ValidationError } from "@/lib/errors";
import { assertJsonContentType, readRawBody } from "@/lib/http/read-body";
import { isUuid } from "@/lib/ids";

// Input helpers for the admin route handlers (route handlers have no body limit of their own).

/** Admin mutations carry a few fields; anything near this is not one. */
export const MAX_JSON_BODY_BYTES = 64 * 1024;

/**
 * The request's JSON body: 413 when too large (by Content-Length or by what arrives), 415
 * when a body is sent as anything but application/json, 400 when it is not JSON. An empty
 * body is 400, or `{}` where every field is optional (`optional: true`).
 */
export async function readJsonBody(request: Request, options: { optional?: boolean } = {}): Promise<unknown> {
  // lib/http's refusals as they are (PayloadTooLargeError, UnsupportedMediaTypeError): a body too
  // large reads the same here as on the webhooks. Stops reading once the limit is passed (a
  // chunked body declares no length).
  const bytes = await readRawBody(request, MAX_JSON_BODY_BYTES);
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === "") {
    if (options.optional) return {};
    throw new ValidationError("The request body must be a JSON object.");
  }
  assertJsonContentType(request);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError("The request body is not valid JSON.");
  }
}

/** A route's id segment; anything that is not a uuid cannot name a row: 404. */
export function uuidParam(value: string, entity: string): string {
  if (!isUuid(value)) throw new NotFoundError(entity, value);
  return value;
}
