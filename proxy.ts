import { NextResponse, type NextRequest } from "next/server";

import { getEnv } from "@/lib/env";
import { contentSecurityPolicy, createNonce } from "@/lib/http/content-security-policy";

/**
 * Next.js 16's proxy (formerly middleware): every page gets a Content-Security-Policy with a
 * fresh nonce (lib/http/content-security-policy.ts). The policy goes on the request, where Next
 * reads the nonce for its own scripts (pages render per request: app/layout.tsx reads it), and on
 * the response, where the browser enforces it. No access checks here: every page and route
 * checks the session itself.
 */
export function proxy(request: NextRequest): NextResponse {
  const nonce = createNonce();
  const policy = contentSecurityPolicy(nonce, { development: getEnv().NODE_ENV === "development" });
  const headers = new Headers(request.headers);
  headers.set("x-nonce", nonce);
  headers.set("content-security-policy", policy);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set("Content-Security-Policy", policy);
  return response;
}

export const config = {
  matcher: [
    // Pages only: API answers (JSON, CSV, next-auth) keep next.config.mjs's headers; static
    // files and prefetches need no nonce.
    {
      source: "/((?!api/|_next/static|_next/image|favicon.ico|icon.svg).*)",
      missing: [
        { type: "header", key: "next-router-prefetch" },
        { type: "header", key: "purpose", value: "prefetch" },
      ],
    },
  ],
};
