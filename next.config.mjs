import { PHASE_DEVELOPMENT_SERVER, PHASE_PRODUCTION_SERVER } from "next/constants.js";

import { getEnv } from "./lib/env.ts";

/**
 * Sent with every page and API response. The dashboard moves money: no other site may frame it
 * (clickjacking on Release / Approve), and browsers must not guess content types.
 * Browsers ignore Strict-Transport-Security over plain http (local runs).
 */
const SECURITY_HEADERS = [
  { key: "Content-Security-Policy", value: "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=()" },
  { key: "Strict-Transport-Security", value: "max-age=63072000; includeSubDomains" },
];

/** @type {import("next").NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  // Parallel builds (e.g. two e2e runs on one machine) can each use their own output folder.
  ...(process.env.NEXT_DIST_DIR ? { distDir: process.env.NEXT_DIST_DIR } : {}),
  poweredByHeader: false,
  serverExternalPackages: ["pg", "bcryptjs"],
  async headers() {
    return [{ source: "/:path*", headers: SECURITY_HEADERS }];
  },
};

export default function config(phase) {
  // Validate the environment when the app is about to run: a bad or missing value stops
  // `next dev` and `next start` naming the variable (instrumentation.ts does the same for
  // servers that do not load this file, such as standalone output). `next build` needs no
  // secrets (lib/env.ts); SKIP_ENV_VALIDATION=1 skips the check (the t3-env convention).
  const runs = [PHASE_DEVELOPMENT_SERVER, PHASE_PRODUCTION_SERVER].includes(phase);
  if (runs && process.env.SKIP_ENV_VALIDATION !== "1") getEnv();
  return nextConfig;
}
