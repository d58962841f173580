// Runs once when a Next.js server starts (never during `next build`): the configuration is
// validated here, so a missing or malformed variable shows at start-up in the server's log,
// naming it, and every request answers 500 (`next start` and `next dev` stop even earlier, in
// next.config.mjs). Standalone output and hosted platforms do not load next.config.mjs.
export async function register(): Promise<void> {
  const { validateEnvOnStart } = await import("./lib/env");
  validateEnvOnStart();
}
