import { PHASE_DEVELOPMENT_SERVER, PHASE_PRODUCTION_BUILD, PHASE_PRODUCTION_SERVER } from "next/constants.js";

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
  // Validate the environment once, when the app is about to run or be built: a bad or
  // missing value stops `next dev`, `next build` and `next start` naming the variable.
  // `next typegen` loads this file as a build but needs no configuration: the typecheck
  // script sets SKIP_ENV_VALIDATION=1 for it (the t3-env convention).
  const runs = [PHASE_DEVELOPMENT_SERVER, PHASE_PRODUCTION_BUILD, PHASE_PRODUCTION_SERVER].includes(phase);
  if (runs && process.env.SKIP_ENV_VALIDATION !== "1") getEnv();
  return nextConfig;
}
