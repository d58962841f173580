import { NextResponse, type NextRequest } from "next/server";

import { getEnv } from "@/lib/env";
import { contentSecurityPolicy, createNonce } from "@/lib/http/content-security-policy";

/** The request header that tells a layout which page was asked for (layouts get no URL). */
const PATH_HEADER = "x-pathname";

/**
 * Next.js 16's proxy (formerly middleware), for page requests:
 * - a Content-Security-Policy with a fresh nonce (lib/http/content-security-policy.ts). The policy
 *   goes on the request, where Next reads the nonce for its own scripts (pages render per request:
 *   app/layout.tsx reads it), and on the response, where the browser enforces it;
 * - the page's path and query as `x-pathname` (overwriting any the client sent), so the dashboard's
 *   layout can send a signed-out visitor to /login with a callback to that page (same-origin paths
 *   only: loginUrlFor).
 * No access checks here: every page and route checks the session itself.
 */
export function proxy(request: NextRequest): NextResponse {
  const nonce = createNonce();
  const policy = contentSecurityPolicy(nonce, { development: getEnv().NODE_ENV === "development" });
  const headers = new Headers(request.headers);
  headers.set("x-nonce", nonce);
  headers.set("content-security-policy", policy);
  headers.set(PATH_HEADER, `${request.nextUrl.pathname}${request.nextUrl.search}`);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set("Content-Security-Policy", policy);
  return response;
}

export const config = {
  matcher: [
    // Pages only: API answers (JSON, CSV, next-auth) keep next.config.mjs's headers; static
    // files and prefetches need neither a nonce nor a path.
    {
      source: "/((?!api/|_next/static|_next/image|favicon.ico|icon.svg).*)",
      missing: [
        { type: "header", key: "next-router-prefetch" },
        { type: "header", key: "purpose", value: "prefetch" },
      ],
    },
  ],
};
