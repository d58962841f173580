import { PHASE_DEVELOPMENT_SERVER, PHASE_PRODUCTION_BUILD, PHASE_PRODUCTION_SERVER } from "next/constants.js";

import { getEnv } from "./lib/env.ts";

/** @type {import("next").NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  // Parallel builds (e.g. two e2e runs on one machine) can each use their own output folder.
  ...(process.env.NEXT_DIST_DIR ? { distDir: process.env.NEXT_DIST_DIR } : {}),
  poweredByHeader: false,
  serverExternalPackages: ["pg", "bcryptjs"],
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
