// Runs `prisma generate` on install. Offline, the Prisma CLI tries to download its
// schema-engine binary first and fails; `generate` does not need that engine (it uses
// wasm), so when no engine is configured we point PRISMA_SCHEMA_ENGINE_BINARY at a file
// that exists. Never /bin/true: with it `migrate deploy` would "succeed" doing nothing.
// On a connected machine with an engine configured, this is the ordinary `prisma generate`.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const env = { ...process.env };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY && existsSync("/bin/false")) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = "/bin/false";
}
env.PRISMA_HIDE_UPDATE_MESSAGE = "1";

const result = spawnSync(process.execPath, ["node_modules/prisma/build/index.js", "generate"], {
  stdio: "inherit",
  env,
});
process.exit(result.status ?? 1);
