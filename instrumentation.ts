// Runs once when a Next.js server starts (never during `next build`): the configuration is
// validated here, so a missing or malformed variable stops the server at start-up with a
// message naming it, not at the first request that needs it.
export async function register(): Promise<void> {
  const { validateEnvOnStart } = await import("./lib/env");
  validateEnvOnStart();
}
