import "server-only";

import { getEnv } from "@/lib/env";
import { ForbiddenError } from "@/lib/errors";

/** The origins a cookie-authenticated mutation may come from: this app's own. */
function allowedOrigins(request: Request): Set<string> {
  const origins = new Set<string>([new URL(request.url).origin]);
  const configured = getEnv().NEXTAUTH_URL;
  if (configured) origins.add(new URL(configured).origin);
  const forwardedHost = request.headers.get("x-forwarded-host");
  if (forwardedHost) {
    const proto = request.headers.get("x-forwarded-proto") ?? new URL(request.url).protocol.replace(":", "");
    origins.add(`${proto}://${forwardedHost}`);
  }
  return origins;
}

/**
 * Refuses cross-site requests to cookie-authenticated mutations: the `Origin` header must
 * be present and be this app's origin (browsers send it on every POST, PUT, PATCH, DELETE).
 */
export function assertSameOrigin(request: Request): void {
  const origin = request.headers.get("origin");
  if (!origin) throw new ForbiddenError("Cross-site request refused: the Origin header is missing.");
  if (!allowedOrigins(request).has(origin)) throw new ForbiddenError(`Cross-site request refused: origin ${origin} is not allowed.`);
}
