// npm run sim — the seeded simulation (docs/simulation.md). Plays random histories through the
// webhook receivers, the Inngest functions and the admin services against the fake Stripe, on a
// scratch PostgreSQL database, and checks the money invariants after each.
//
//   npm run sim                      seeds 0…999
//   npm run sim -- --seeds 5000      seeds 0…4999 (--from N to start elsewhere)
//   npm run sim -- --seed 1234       replays one seed, prints its history, shrinks it if it fails
//   --shrink-seconds N               time allowed for shrinking each failure (default 120)
//   --keep-going                     do not stop at the first failing seed
//   --jobs N                         splits the seeds among N processes (each with its own scratch
//                                    database, fake Stripe and Inngest stand-in); default 1
//
// Run with `tsx --conditions=react-server` (the npm script does) so "server-only" modules load.
import { fork } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { ensureDatabase, runMigrations } from "../lib/migrations/run-migrations.ts";
import { databaseUrl, dropDatabase, uniqueDatabaseName, withAdminClient } from "../test/support/databases.ts";
import { startFakeStripe } from "../test/support/fake-stripe.ts";
import { startInngestReceiver } from "../test/support/inngest-receiver.ts";

const OPTIONS = {
  seed: { type: "string" },
  seeds: { type: "string", default: "1000" },
  from: { type: "string", default: "0" },
  "shrink-seconds": { type: "string", default: "120" },
  "keep-going": { type: "boolean", default: false },
  verbose: { type: "boolean", default: false },
  jobs: { type: "string", default: "1" },
} as const;

type TValues = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>["values"];

/** What a job reports to the parent when it ends (on its IPC channel). */
type TJobResult = { done: number; failing: number[] };

async function main(): Promise<number> {
  const { values } = parseArgs({ options: OPTIONS });
  if (process.env.NODE_ENV === "production") {
    console.error("Refusing to run the simulation with NODE_ENV=production.");
    return 1;
  }
  const jobs = Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) {
    console.error(`--jobs must be a whole number of processes, 1 or more (got ${values.jobs}).`);
    return 1;
  }
  if (jobs > 1 && values.seed === undefined) return runJobs(values, jobs);
  return runSeeds(values);
}

/**
 * Splits the seeds into `jobs` contiguous ranges, one process each; passes their output through
 * a line at a time and prints the total. Without --keep-going, the first failing job stops the others.
 */
async function runJobs(values: TValues, jobs: number): Promise<number> {
  const from = Number(values.from);
  const count = Number(values.seeds);
  const started = performance.now();
  const results: TJobResult[] = [];
  const children: ReturnType<typeof fork>[] = [];
  const passThrough = (stream: NodeJS.ReadableStream | null, out: NodeJS.WriteStream) => {
    let buffered = "";
    stream?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const end = buffered.lastIndexOf("\n");
      if (end < 0) return;
      out.write(buffered.slice(0, end + 1));
      buffered = buffered.slice(end + 1);
    });
    stream?.on("end", () => buffered && out.write(`${buffered}\n`));
  };
  await Promise.all(
    Array.from({ length: jobs }, (_, job) => {
      const start = from + Math.floor((count * job) / jobs);
      const end = from + Math.floor((count * (job + 1)) / jobs);
      const args = ["--from", String(start), "--seeds", String(end - start), "--shrink-seconds", values["shrink-seconds"]!];
      if (values["keep-going"]) args.push("--keep-going");
      if (values.verbose) args.push("--verbose");
      const child = fork(fileURLToPath(import.meta.url), args, { stdio: ["ignore", "pipe", "pipe", "ipc"] });
      children.push(child);
      passThrough(child.stdout, process.stdout);
      passThrough(child.stderr, process.stderr);
      console.log(`job ${job}: seeds ${start}…${end - 1}`);
      return new Promise<void>((resolve) => {
        child.on("message", (message) => {
          const result = message as TJobResult;
          results.push(result);
          if (result.failing.length > 0 && !values["keep-going"]) for (const other of children) if (other !== child) other.kill("SIGINT");
        });
        child.on("exit", () => resolve());
      });
    }),
  );
  const done = results.reduce((n, r) => n + r.done, 0);
  const failing = results.flatMap((r) => r.failing).sort((a, b) => a - b);
  const seconds = (performance.now() - started) / 1000;
  const complete = results.length === jobs;
  console.log(
    `${done} seeds in ${seconds.toFixed(1)} s (${(done / seconds).toFixed(2)} seeds/s, ${jobs} jobs): ` +
      (failing.length === 0
        ? complete
          ? "no violations"
          : "a job ended without reporting"
        : `${failing.length} failing: ${failing.join(", ")}`),
  );
  return failing.length === 0 && complete ? 0 : 1;
}

async function runSeeds(values: TValues): Promise<number> {
  let stopping = false;
  process.on("SIGINT", () => (stopping = true));

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
  const failing: number[] = [];
  let done = 0;
  try {
    const world = await startWorld(fake, receiver);
    now = () => world.clock.now();
    const seeds = values.seed !== undefined ? [Number(values.seed)] : range(Number(values.from), Number(values.seeds));
    const started = performance.now();
    for (const seed of seeds) {
      if (stopping) break;
      if (process.env.SIM_TIMING) process.stderr.write(`[sim] seed ${seed}\n`);
      silence();
      const result = await runSeed(world, seed).finally(() => Object.assign(console, quiet));
      done++;
      if (values.seed !== undefined)
        console.log(
          formatFailure(result)
            .split("\n")
            .slice(result.violations.length === 0 ? 3 : 0)
            .join("\n"),
        );
      if (result.violations.length > 0) {
        failing.push(seed);
        const invariant = result.violations[0]!.invariant;
        console.log(`\nseed ${seed}: ${invariant} violated; shrinking…`);
        silence();
        const shrunk = await shrink(world, result.history, invariant, Number(values["shrink-seconds"]) * 1000).finally(() =>
          Object.assign(console, quiet),
        );
        console.log(formatFailure(result, shrunk));
        if (!values["keep-going"]) break;
      }
      if (done % 100 === 0)
        console.log(
          `${done} seeds${process.send ? ` from ${seeds[0]}` : ""}, ${failing.length} failing, ${(done / ((performance.now() - started) / 1000)).toFixed(2)} seeds/s`,
        );
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `${done} seed${done === 1 ? "" : "s"} in ${seconds.toFixed(1)} s (${(done / seconds).toFixed(2)} seeds/s): ${failing.length === 0 ? "no violations" : `${failing.length} failing: ${failing.join(", ")}`}`,
    );
  } finally {
    await db.$disconnect();
    await fake.stop();
    await receiver.stop();
    await dropDatabase(name);
  }
  // A job tells its parent what it did (the parent prints the total).
  if (process.send) await new Promise((resolve) => process.send!({ done, failing } satisfies TJobResult, resolve));
  return failing.length === 0 ? 0 : 1;
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
