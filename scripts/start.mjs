// npm start — the local demo in one command: create and migrate the database, load the
// demo data (idempotent), then serve the dashboard with `next dev` on http://localhost:3000.
// Production uses `npm run build` + `npm run start:prod` (or Vercel) instead.
import { spawn, spawnSync } from "node:child_process";

if (process.env.NODE_ENV === "production") {
  console.error("npm start is the local demo. In production run `npm run db:migrate`, `npm run build` and `npm run start:prod`.");
  process.exit(1);
}

const bin = (name) => `node_modules/.bin/${name}`;

function step(label, command, args) {
  console.log(`\n▸ ${label}`);
  const result = spawnSync(command, args, { stdio: "inherit", env: process.env });
  if (result.status !== 0) {
    console.error(`\n✗ ${label} failed. Is PostgreSQL running on 127.0.0.1:5432 (or DATABASE_URL set)?`);
    process.exit(result.status ?? 1);
  }
}

step("Migrating the database", bin("tsx"), ["scripts/migrate.ts"]);
if (process.env.SKIP_SEED !== "1") {
  step("Loading demo data", bin("tsx"), ["--conditions=react-server", "scripts/seed.ts"]);
}

const port = process.env.PORT ?? "3000";
console.log(`\n▸ Starting the dashboard on http://localhost:${port}\n`);
const server = spawn(bin("next"), ["dev", "-p", port], {
  stdio: "inherit",
  env: { NEXT_TELEMETRY_DISABLED: "1", ...process.env },
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.kill(signal));
server.on("exit", (code) => process.exit(code ?? 0));
