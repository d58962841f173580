// npm run sim — the seeded simulation (docs/simulation.md). Plays random histories through the
// webhook receivers, the Inngest functions and the admin services against the fake Stripe, on a
// scratch PostgreSQL database, and checks the money invariants after each.
//
//   npm run sim                      seeds 0…999
//   npm run sim -- --seeds 5000      seeds 0…4999 (--from N to start elsewhere)
//   npm run sim -- --seed 1234       replays one seed, prints its history, shrinks it if it fails
//   --shrink-seconds N               time allowed for shrinking each failure (default 120)
//   --keep-going                     do not stop at the first failing seed
//
// Run with `tsx --conditions=react-server` (the npm script does) so "server-only" modules load.
import path from "node:path";
import { parseArgs } from "node:util";

import { ensureDatabase, runMigrations } from "../lib/migrations/run-migrations.ts";
import { databaseUrl, dropDatabase, uniqueDatabaseName, withAdminClient } from "../test/support/databases.ts";
import { startFakeStripe } from "../test/support/fake-stripe.ts";
import { startInngestReceiver } from "../test/support/inngest-receiver.ts";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: "string" },
      seeds: { type: "string", default: "1000" },
      from: { type: "string", default: "0" },
      "shrink-seconds": { type: "string", default: "120" },
      "keep-going": { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
    },
  });
  if (process.env.NODE_ENV === "production") {
    console.error("Refusing to run the simulation with NODE_ENV=production.");
    return 1;
  }

  const name = uniqueDatabaseName("payouts_sim");
  const url = databaseUrl(name);
  await ensureDatabase(url);
  await runMigrations(url, path.resolve("prisma/migrations"));
  // A scratch database: commits need not wait for the disk (thousands of small transactions).
  await withAdminClient((c) => c.query(`ALTER DATABASE "${name}" SET synchronous_commit = off`));
  const receiver = await startInngestReceiver();
  // The clock is the simulation's: the fake Stripe reads it through the world (set below).
  let now = () => new Date();
  const fake = await startFakeStripe({ now: () => now() });
  Object.assign(process.env, {
    NODE_ENV: "test",
    DATABASE_URL: url,
    INNGEST_DEV: "1",
    INNGEST_BASE_URL: receiver.url,
    ...fake.env(),
    STRIPE_MAX_NETWORK_RETRIES: "0",
    STRIPE_TIMEOUT_MS: "400",
  });

  const { startWorld } = await import("../test/sim/play.ts");
  const { runSeed, shrink, formatFailure } = await import("../test/sim/run-seed.ts");
  const { db } = await import("../lib/db.ts");
  // Quiet: the engine logs what it recovers from, which is every history here.
  const quiet = { warn: console.warn, error: console.error, log: console.log };
  const silence = () => {
    if (!values.verbose) console.warn = console.error = console.log = () => {};
  };
  let failures = 0;
  try {
    const world = await startWorld(fake, receiver);
    now = () => world.clock.now();
    const seeds = values.seed !== undefined ? [Number(values.seed)] : range(Number(values.from), Number(values.seeds));
    const started = performance.now();
    let done = 0;
    for (const seed of seeds) {
      if (process.env.SIM_TIMING) process.stderr.write(`[sim] seed ${seed}\n`);
      silence();
      const result = await runSeed(world, seed).finally(() => Object.assign(console, quiet));
      done++;
      if (values.seed !== undefined) console.log(formatFailure(result).split("\n").slice(result.violations.length === 0 ? 3 : 0).join("\n"));
      if (result.violations.length > 0) {
        failures++;
        const invariant = result.violations[0]!.invariant;
        console.log(`\nseed ${seed}: ${invariant} violated; shrinking…`);
        silence();
        const shrunk = await shrink(world, result.history, invariant, Number(values["shrink-seconds"]) * 1000).finally(() => Object.assign(console, quiet));
        console.log(formatFailure(result, shrunk));
        if (!values["keep-going"]) break;
      }
      if (done % 100 === 0) console.log(`${done} seeds, ${failures} failing, ${(done / ((performance.now() - started) / 1000)).toFixed(2)} seeds/s`);
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`${done} seed${done === 1 ? "" : "s"} in ${seconds.toFixed(1)} s (${(done / seconds).toFixed(2)} seeds/s): ${failures === 0 ? "no violations" : `${failures} failing`}`);
  } finally {
    await db.$disconnect();
    await fake.stop();
    await receiver.stop();
    await dropDatabase(name);
  }
  return failures === 0 ? 0 : 1;
}

function range(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from + i);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
