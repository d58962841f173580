import "server-only";

import { NextRequest } from "next/server";

import { withErrors } from "@/lib/api/respond";
import { assertContentType, readRawBody } from "@/lib/http/read-body";

// A body limit and the accepted content types in front of a route handler that reads the body
// itself (next-auth's): the body is read here, within the limit, and handed on as a new request
// holding exactly those bytes, so the handler never reads more than the limit.

/** next-auth's forms (sign-in, sign-out, CSRF-protected posts) carry a few short fields. */
export const MAX_AUTH_BODY_BYTES = 16 * 1024;

/** What next-auth's own client sends, and the only bodies next-auth parses. */
export const AUTH_BODY_TYPES = ["application/x-www-form-urlencoded", "application/json"] as const;

type TLimitOptions = { limitBytes: number; contentTypes: readonly string[] };

/**
 * Wraps `handler` so that any request other than GET/HEAD/OPTIONS first passes: a content type
 * not in `contentTypes` (or none) 415, before a byte is read; a body over `limitBytes` 413 (a
 * declared Content-Length before reading, else as soon as that much has arrived). Errors are
 * JSON like every other refusal (lib/api/respond.ts).
 */
export function limitBody<C>(
  handler: (request: NextRequest, context: C) => Promise<Response>,
  options: TLimitOptions,
): (request: NextRequest, context: C) => Promise<Response> {
  return withErrors(async (request: NextRequest, context: C) => {
    if (request.method === "GET" || request.method === "HEAD" || request.method === "OPTIONS") return handler(request, context);
    assertContentType(request, options.contentTypes);
    const body = await readRawBody(request, options.limitBytes);
    const headers = new Headers(request.headers);
    headers.set("content-length", String(body.byteLength));
    headers.delete("transfer-encoding");
    const bounded = new NextRequest(request.url, { method: request.method, headers, body: body.byteLength > 0 ? body : null });
    return handler(bounded, context);
  });
}
