import { NextResponse, type NextRequest } from "next/server";

/** The request header that tells a layout which page was asked for (layouts get no URL). */
const PATH_HEADER = "x-pathname";

/**
 * Next.js 16's proxy (formerly middleware): hands each page request's path and query to the
 * server components as `x-pathname` (overwriting any the client sent), so the dashboard's layout
 * can send a signed-out visitor to /login with a callback to that page (same-origin paths only:
 * loginUrlFor). No access checks here: every page and route checks the session itself.
 */
export function proxy(request: NextRequest): NextResponse {
  const headers = new Headers(request.headers);
  headers.set(PATH_HEADER, `${request.nextUrl.pathname}${request.nextUrl.search}`);
  return NextResponse.next({ request: { headers } });
}

export const config = {
  matcher: [
    // Pages only: API answers, static files and prefetches need no path.
    {
      source: "/((?!api/|_next/static|_next/image|favicon.ico|icon.svg).*)",
      missing: [
        { type: "header", key: "next-router-prefetch" },
        { type: "header", key: "purpose", value: "prefetch" },
      ],
    },
  ],
};
