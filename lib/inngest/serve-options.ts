import type { TEnv } from "@/lib/env";

/** The path the Inngest endpoint is served at (app/api/inngest/route.ts). */
export const INNGEST_SERVE_PATH = "/api/inngest";

/**
 * How /api/inngest registers itself with Inngest. The SDK otherwise builds the URL it registers
 * from the request's Host header: an unsigned `PUT /api/inngest` with a foreign Host would have the
 * app sync every function's URL on that host with Inngest Cloud. So the origin comes from
 * configuration (INNGEST_SERVE_ORIGIN, else NEXTAUTH_URL, else VERCEL_URL), and in cloud mode
 * (every production) only requests signed with INNGEST_SIGNING_KEY are served, syncs included:
 * Inngest Cloud, its Vercel integration and its API sign theirs. The local dev server (INNGEST_DEV,
 * never in production) does not sign; the SDK does not check signatures there.
 */
export function inngestServeOptions(env: Pick<TEnv, "inngestServeOrigin">) {
  return {
    ...(env.inngestServeOrigin ? { serveOrigin: env.inngestServeOrigin } : {}),
    servePath: INNGEST_SERVE_PATH,
    enableUnauthedSync: false,
  } as const;
}
