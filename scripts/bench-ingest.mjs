// Webhook ingest, side by side (issue 13): what a webhook delivery costs compared with the
// least a route can do, measured in one run against one production server.
//
//   npm run bench:ingest            (node scripts/bench-ingest.mjs)
//
// What it does, in order:
// 1. Copies the app into a temporary build folder (the sources copied, node_modules
//    hard-linked: Turbopack refuses a symlinked node_modules) and adds two scratch routes
//    there, never to the product: POST /api/bench/bare (reads the body, answers 200 JSON) and
//    POST /api/bench/insert (reads the body, one INSERT of it into a scratch table
//    `bench_insert` through the app's own Prisma client and pool, lib/db.ts, answers 200).
//    Then `next build` there: the product's routes are built from the same sources as in
//    production, so what is measured is whatever the product's code does today.
// 2. Creates and migrates a scratch database (payouts_bi_<run id>), adds `bench_insert`, and
//    starts `next start` (production) on BENCH_PORT with a local stand-in for Inngest's event
//    API on BENCH_STANDIN_PORT (accepts every event, as a reachable Inngest does). The app's
//    Stripe client points at the stand-in too, which answers 500: the bench traffic needs no
//    Stripe call, and the stand-in counts any made (printed; expected 0).
// 3. Warm-up, then interleaved closed-loop rounds (BENCH_ROUNDS × BENCH_ROUND_SECONDS, 20
//    connections, each sends its next request as soon as it has its answer: the maximum
//    throughput) of, in a rotating order:
//    - bare: the scratch bare route;
//    - insert: the scratch one-insert route;
//    - booking: POST /api/webhooks/booking, distinct correctly signed deliveries (Payouts-
//      Signature `t=…,v1=…`, HMAC-SHA256 over `${t}.${body}`), as a busy platform sends them:
//      in every 10, six booking.completed, three tip.created on bookings completed a little
//      earlier, one re-sent delivery (same id, same bytes; answered as a duplicate);
//    - stripe: POST /api/webhooks/stripe, distinct events built from Stripe's published
//      fixtures (test/support/stripe-fixtures3.json: the event and account objects), signed as
//      Stripe does (Stripe-Signature `t=…,v1=…`, HMAC-SHA256 over `${t}.${body}` with
//      STRIPE_WEBHOOK_SECRET): in every 10, eight account.updated of the bench providers'
//      connected accounts (each with its own `created`), one charge.succeeded (a type Payouts
//      stores and ignores), one re-sent event.
//    After each webhook round the script waits for the backlog to drain (no WebhookEvent left
//    `received`) before the next round starts, so that work left over from one round does not
//    slow the next; the drain time is printed, and the sustained rate of a webhook round is
//    deliveries / (round + drain) (0 when the drain passed 30 s); a round that did not drain in
//    30 s is still waited on until all is applied (up to 10 min, not counted), so that the next
//    round starts clean, and "applied/s" = deliveries / (round + time until all were applied) is
//    the rate one server applies at. Before the redesign the code applied before answering (drain ≈
//    0); a design that answers once the delivery is stored and applies it afterwards (Next's
//    `after()`) is measured the same way, and the drain is what keeps its rate honest.
// 4. A fixed-rate phase on the booking webhook (BENCH_FIXED_RATE/s for BENCH_FIXED_SECONDS):
//    requests are sent on a fixed schedule whatever the answers do (up to 200 connections),
//    and each latency counts from the request's scheduled time, so queueing is not hidden.
//    When the server cannot keep up (a request waiting 1 s), the phase stops offering more
//    and reports itself overloaded (a FAIL of the p99 goal) rather than lasting as long as
//    the backlog.
// 5. Transactions per request: for insert, booking and stripe, BENCH_TXN_SAMPLE requests
//    (5 connections), then a wait for PostgreSQL's statistics (an idle backend reports its
//    counts within 10 s), the difference of pg_stat_database.xact_commit + xact_rollback of
//    the scratch database divided by the requests (the script's own queries on that database
//    and the start-up transaction of each new connection, pg_stat_database.sessions,
//    subtracted). A proxy for round trips: a transaction of several statements counts once;
//    the insert route (one statement) is the check of the method and should read ≈ 1.0.
//    Autovacuum's transactions may add a little.
//    Each round also reads, from /proc, the CPU time the server's processes and the scratch
//    database's backends spent, per request answered (a closed-loop round's drain included):
//    less sensitive to the machine's load than the rates, though a busy CPU is slower per
//    instruction too.
// 6. Checks that every accepted delivery was applied exactly once (below), prints the
//    figures, the ratios and the goals as PASS/FAIL lines, stops the server and drops the
//    database and the build folder.
//
// Goals (issue 13), judged on this run: sustained booking-webhook throughput ≥ 50 % of the
// one-insert route's; every answered delivery applied within 30 s after the load stops (each
// webhook round's drain and the final one); p99 < 100 ms at 100 requests/s on the booking
// webhook. The exit code is 1 when a check of exactly-once fails, 0 otherwise (a missed goal
// is a measurement, printed as FAIL, not an error).
//
// Exactly once: every delivery answered 200 is stored once (stored rows per source == the
// deliveries answered 200 without `duplicate`, plus those stored whose answer never came: a
// client timeout, counted as non-200; every answered id is stored; nothing else is); every stored
// delivery ended processed or ignored (the charge.succeeded ones ignored); every completed
// booking has one payout with its share plus its accepted tips; every tip is recorded once;
// the audit log has one booking.completed and one payout.scheduled per booking and one
// tip.accepted/tip.rejected per tip; one outbox event per applied booking delivery (its id);
// `bench_insert` holds one row per 200 of the insert route.
//
// The load generator is Node (node:http, keep-alive agent; wrk is not installed here), run
// in a worker thread so that its event loop is not the stand-in's. It runs on the same
// machine as the server and PostgreSQL (two cores here): it competes with them for CPU,
// most for the bare route (the fastest, so the one where the client's cost weighs most).
// Ratios within one run are the figures to compare; absolute rates move with the machine's
// load, printed with them (/proc/loadavg).
//
// Knobs (environment): BENCH_ROUNDS (3), BENCH_ROUND_SECONDS (10), BENCH_CONNECTIONS (20),
// BENCH_WARMUP_SECONDS (3 per route), BENCH_FIXED_RATE (100), BENCH_FIXED_SECONDS (20),
// BENCH_TXN_SAMPLE (200; 0 skips step 5), BENCH_PORT (3420), BENCH_STANDIN_PORT (3430),
// BENCH_BUILD_DIR (a folder to build in and keep; with BENCH_SKIP_BUILD=1 its last build is
// reused), BENCH_KEEP_DB=1, TEST_POSTGRES_URL (admin connection, as for the tests),
// BENCH_SERVER_NODE_OPTIONS (NODE_OPTIONS for `next start` only, e.g. "--cpu-prof
// --cpu-prof-dir=/tmp/prof": the profile is written when the server stops), BENCH_ROUTES (a
// comma-separated subset of bare,insert,booking,stripe for the closed-loop rounds, e.g. to
// profile one route; the goals are judged only with all four).
import { spawn, spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

import pg from "pg";

const env = process.env;
const ROUNDS = Number(env.BENCH_ROUNDS ?? 3);
const ROUND_SECONDS = Number(env.BENCH_ROUND_SECONDS ?? 10);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 20);
const WARMUP_SECONDS = Number(env.BENCH_WARMUP_SECONDS ?? 3);
const FIXED_RATE = Number(env.BENCH_FIXED_RATE ?? 100);
const FIXED_SECONDS = Number(env.BENCH_FIXED_SECONDS ?? 20);
const TXN_SAMPLE = Number(env.BENCH_TXN_SAMPLE ?? 200);
const PORT = Number(env.BENCH_PORT ?? 3420);
const STANDIN_PORT = Number(env.BENCH_STANDIN_PORT ?? 3430);
const ADMIN_URL = env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const BOOKING_SECRET = "whsec_booking_bench_secret_0001";
const STRIPE_SECRET = "whsec_stripe_bench_secret_0001";
/** At most this many distinct deliveries per second of a closed-loop webhook round are prepared. */
const MAX_RATE = Number(env.BENCH_MAX_RATE ?? 2500);
const DRAIN_LIMIT_MS = 30_000;
/** How long a round that did not drain within DRAIN_LIMIT_MS is waited on before the next starts (not counted). */
const SETTLE_LIMIT_MS = 10 * 60_000;
/** The scratch routes' bodies are cycled; at most this many requests per second are recorded. */
const MAX_PLAIN_RATE = 20_000;
/** The fixed-rate phase stops offering requests once one has waited this long for its answer. */
const OVERLOAD_SECONDS = 1;
/** An idle PostgreSQL backend reports its transaction counts within 10 s (PGSTAT_IDLE_INTERVAL). */
const STATS_SETTLE_MS = 11_500;
const ALL_ROUTES = ["bare", "insert", "booking", "stripe"];
/** BENCH_ROUTES=insert,booking runs only those closed-loop rounds (for a profile of one route); the goals need all four. */
const ROUTES = env.BENCH_ROUTES ? ALL_ROUTES.filter((r) => env.BENCH_ROUTES.split(",").includes(r)) : ALL_ROUTES;
const PATHS = { bare: "/api/bench/bare", insert: "/api/bench/insert", booking: "/api/webhooks/booking", stripe: "/api/webhooks/stripe" };

// ── Load generator (worker thread) ────────────────────────────────────────────────────
/**
 * mode "closed": `connections` loops, each sending the next request as soon as it has its
 * answer, until `seconds` have passed (or the requests run out: `exhausted`). mode "rate":
 * request i is sent at start + i / rate, whatever the answers; its latency counts from then.
 * Returns per request sent: the HTTP status (0 for a socket error or timeout), whether the
 * answer said `duplicate`, and the latency.
 */
async function runLoad({ mode, url, requests, cycle, limit, connections, seconds, rate }) {
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  // `cycle`: the requests are sent over and over (the scratch routes' bodies need not be distinct).
  const capacity = cycle ? (limit ?? Math.ceil(seconds * MAX_PLAIN_RATE)) : requests.length;
  const status = new Uint16Array(capacity);
  const duplicate = new Uint8Array(capacity);
  const latency = new Float64Array(capacity);
  const post = (i) =>
    new Promise((resolve) => {
      const { body, headers } = requests[i % requests.length];
      const req = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: "POST",
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers },
          timeout: 30_000,
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk) => (text += chunk));
          res.on("end", () => {
            status[i] = res.statusCode ?? 0;
            duplicate[i] = text.includes('"duplicate":true') ? 1 : 0;
            resolve();
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", () => resolve()); // status stays 0
      req.end(body);
    });

  let sent = 0;
  let exhausted = false;
  let overloaded = false;
  const started = performance.now();
  if (mode === "closed") {
    const end = started + seconds * 1000;
    const loop = async () => {
      while (performance.now() < end) {
        if (sent >= capacity) {
          exhausted = true;
          return;
        }
        const i = sent++;
        const t0 = performance.now();
        await post(i);
        latency[i] = performance.now() - t0;
      }
    };
    await Promise.all(Array.from({ length: connections }, loop));
  } else {
    const count = Math.min(capacity, Math.round(rate * seconds));
    const interval = 1000 / rate;
    const inFlight = [];
    const done = new Uint8Array(count);
    let oldest = 0; // the oldest request sent and not yet answered (or `sent`)
    await new Promise((resolve) => {
      const tick = () => {
        const now = performance.now();
        while (oldest < sent && done[oldest]) oldest += 1;
        // A request has waited over OVERLOAD_SECONDS (10 times the goal): the server cannot
        // keep up. Stop offering more, or the phase would last as long as the backlog.
        if (oldest < sent && now - (started + oldest * interval) > OVERLOAD_SECONDS * 1000) {
          overloaded = true;
          resolve();
          return;
        }
        while (sent < count && started + sent * interval <= now) {
          const i = sent++;
          const scheduled = started + i * interval;
          inFlight.push(
            post(i).then(() => {
              latency[i] = performance.now() - scheduled;
              done[i] = 1;
            }),
          );
        }
        if (sent >= count) resolve();
        else setTimeout(tick, Math.max(0, started + sent * interval - performance.now()));
      };
      tick();
    });
    await Promise.all(inFlight);
  }
  const elapsedMs = performance.now() - started;
  agent.destroy();
  return {
    sent,
    exhausted,
    overloaded,
    elapsedMs,
    status: status.slice(0, sent),
    duplicate: duplicate.slice(0, sent),
    latency: latency.slice(0, sent),
  };
}

function load(options) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: options });
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => code !== 0 && reject(new Error(`load worker exited with ${code}`)));
  });
}

// ── Deliveries ────────────────────────────────────────────────────────────────────────
function hmacHeader(rawBody, secret, timestamp) {
  const v1 = createHmac("sha256", secret).update(`${timestamp}.${rawBody}`).digest("hex");
  return `t=${timestamp},v1=${v1}`;
}

/** What the run sent, for the exactly-once checks: one entry per distinct delivery. */
class Ledger {
  constructor(runId) {
    this.runId = runId;
    this.deliveries = new Map(); // key `${source}:${externalId}` → { source, kind, externalId, bookingId?, tipId?, answered200: 0, fresh200: 0 }
    this.bookingSeq = 0;
    this.eventSeq = 0;
    this.insert200 = 0;
    this.insertSent = 0;
    this.stripeCreated = Math.floor(Date.now() / 1000) - 30 * 24 * 3600;
  }

  entry(source, kind, externalId, extra = {}) {
    const key = `${source}:${externalId}`;
    if (!this.deliveries.has(key))
      this.deliveries.set(key, { source, kind, externalId, attempts: 0, answered200: 0, fresh200: 0, ...extra });
    return key;
  }

  /** `count` booking-platform deliveries: six booking.completed, three tips, one re-send in every 10. */
  booking(count) {
    const t = Math.floor(Date.now() / 1000);
    const completedAt = new Date(Date.now() - 60 * 60 * 1000).toISOString();
    const tippedAt = new Date(Date.now() - 30 * 60 * 1000).toISOString();
    const out = [];
    const bookings = [];
    for (let i = 0; i < count; i += 1) {
      const slot = i % 10;
      const seq = this.eventSeq++;
      let body;
      let key;
      if (slot < 6 || bookings.length < 6) {
        const n = this.bookingSeq++;
        const bookingId = `bk_${this.runId}_${n}`;
        bookings.push(bookingId);
        const p = n % 50; // 50 providers, as a marketplace with repeat providers
        body = {
          id: `evt_${this.runId}_${seq}`,
          type: "booking.completed",
          createdAt: completedAt,
          data: {
            bookingId,
            completedAt,
            currency: "USD",
            providerShare: 5_000 + (n % 97) * 25,
            chargeId: `ch_${this.runId}_${n}`,
            provider: {
              id: `prov_${this.runId}_${p}`,
              name: `Bench Provider ${p}`,
              email: `bench-${p}@example.test`,
              stripeAccountId: accountOf(this.runId, p),
            },
          },
        };
        key = this.entry("booking_platform", "booking", body.id, { bookingId, share: body.data.providerShare });
      } else if (slot < 9) {
        const bookingId = bookings[bookings.length - 6];
        body = {
          id: `evt_${this.runId}_${seq}`,
          type: "tip.created",
          createdAt: tippedAt,
          data: { tipId: `tip_${this.runId}_${seq}`, bookingId, amount: 300 + (seq % 7) * 100, currency: "USD", createdAt: tippedAt },
        };
        key = this.entry("booking_platform", "tip", body.id, { bookingId, tipId: body.data.tipId, amount: body.data.amount });
      } else {
        out.push(out[out.length - 7]); // a re-sent delivery: same id, same bytes
        continue;
      }
      const raw = JSON.stringify(body);
      out.push({ body: raw, headers: { "payouts-signature": hmacHeader(raw, BOOKING_SECRET, t) }, key });
    }
    return out;
  }

  /** `count` Stripe events from Stripe's fixtures: eight account.updated, one charge.succeeded, one re-send in every 10. */
  stripe(count) {
    const t = Math.floor(Date.now() / 1000);
    const out = [];
    for (let i = 0; i < count; i += 1) {
      const slot = i % 10;
      if (slot === 9 && out.length >= 7) {
        out.push(out[out.length - 7]);
        continue;
      }
      const seq = this.eventSeq++;
      const event = structuredClone(STRIPE_FIXTURES.event);
      event.id = `evt_${this.runId}_${seq}`;
      event.api_version = STRIPE_API_VERSION;
      // Each event its own second: two states of one account in one second would make the
      // handler ask Stripe (handle-account-updated.ts); the bench traffic asks Stripe nothing.
      event.created = this.stripeCreated++;
      event.request = { id: null, idempotency_key: null };
      let kind;
      if (slot === 8) {
        kind = "stripe_ignored";
        event.type = "charge.succeeded";
        event.data = {
          object: { ...structuredClone(STRIPE_FIXTURES.charge), id: `ch_${this.runId}_s${seq}`, metadata: {}, transfer_group: null },
        };
      } else {
        kind = "stripe_account";
        const account = structuredClone(STRIPE_FIXTURES.account);
        account.id = accountOf(this.runId, seq % 50);
        account.payouts_enabled = true;
        account.charges_enabled = true;
        account.capabilities = { ...account.capabilities, transfers: "active" };
        account.requirements = { ...account.requirements, disabled_reason: null };
        event.type = "account.updated";
        event.account = account.id;
        event.data = { object: account };
      }
      const raw = JSON.stringify(event);
      const key = this.entry("stripe", kind, event.id);
      out.push({ body: raw, headers: { "stripe-signature": hmacHeader(raw, STRIPE_SECRET, t) }, key });
    }
    return out;
  }

  /** A body for the scratch routes (cycled): a booking.completed delivery's JSON, unsigned, nothing recorded. */
  plain() {
    const [delivery] = new Ledger(`${this.runId}x`).booking(1);
    return [{ body: delivery.body, headers: {} }];
  }

  requests(route, count) {
    if (route === "booking") return this.booking(count);
    if (route === "stripe") return this.stripe(count);
    return this.plain(count);
  }

  /** Records what was answered. */
  record(route, requests, result) {
    if (route === "insert") this.insertSent += result.sent;
    for (let i = 0; i < result.sent; i += 1) {
      const key = requests[i % requests.length].key;
      const d = key ? this.deliveries.get(key) : undefined;
      if (d) d.attempts += 1;
      if (result.status[i] !== 200) continue;
      if (route === "insert") this.insert200 += 1;
      if (!d) continue;
      d.answered200 += 1;
      if (!result.duplicate[i]) d.fresh200 += 1;
    }
  }
}

const accountOf = (runId, p) => `acct_bi${runId}${String(p).padStart(3, "0")}`;

/** Stripe's fixtures and the API version the installed SDK pins (the shape Payouts reads); loaded by main(). */
let STRIPE_FIXTURES;
let STRIPE_API_VERSION;

async function loadStripeFixtures() {
  STRIPE_FIXTURES = JSON.parse(readFileSync(path.resolve("test/support/stripe-fixtures3.json"), "utf8")).resources;
  STRIPE_API_VERSION = (await import("stripe")).default.API_VERSION;
}

// ── Figures ───────────────────────────────────────────────────────────────────────────
function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summarize(result) {
  const ok = [];
  let non200 = 0;
  for (let i = 0; i < result.sent; i += 1) {
    if (result.status[i] === 200) ok.push(result.latency[i]);
    else non200 += 1;
  }
  ok.sort((a, b) => a - b);
  return {
    sent: result.sent,
    ok: ok.length,
    non200,
    rps: (ok.length / result.elapsedMs) * 1000,
    p50: percentile(ok, 50),
    p99: percentile(ok, 99),
    exhausted: result.exhausted,
    overloaded: result.overloaded,
    elapsedMs: result.elapsedMs,
  };
}

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : "–");
const f0 = (n) => (Number.isFinite(n) ? n.toFixed(0) : "–");
const loadavg = () => readFileSync("/proc/loadavg", "utf8").trim();
/** A process's CPU time (user + system, ms) and process group, from /proc/<pid>/stat; null when it is gone. */
function procCpu(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // from the state field on
    return { pgrp: Number(fields[2]), ms: ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS };
  } catch {
    return null;
  }
}
/** CPU spent between two snapshots of backends (a backend that appeared counts from 0; one that left is lost). */
function cpuSpent(before, after) {
  let ms = 0;
  for (const [pid, t] of after) ms += t - (before.get(pid) ?? 0);
  return ms;
}
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

// ── Server, build, database ───────────────────────────────────────────────────────────
function step(label, command, args, options = {}) {
  console.log(`▸ ${label}`);
  const started = Date.now();
  const result = spawnSync(command, args, { stdio: "inherit", ...options });
  if (result.status !== 0) throw new Error(`${label} failed (exit ${result.status})`);
  return (Date.now() - started) / 1000;
}

const BARE_ROUTE = `import { NextResponse } from "next/server";

export const dynamic = "force-dynamic";

/** Bench build only (scripts/bench-ingest.mjs): reads the body, answers 200. */
export async function POST(request: Request) {
  await request.text();
  return NextResponse.json({ received: true });
}
`;

const INSERT_ROUTE = `import { NextResponse } from "next/server";

import { db } from "@/lib/db";

export const dynamic = "force-dynamic";

/** Bench build only (scripts/bench-ingest.mjs): reads the body, one INSERT through the app's Prisma client, answers 200. */
export async function POST(request: Request) {
  const body = await request.text();
  await db.$executeRaw\`INSERT INTO bench_insert (body) VALUES (\${body}::jsonb)\`;
  return NextResponse.json({ received: true });
}
`;

/** The app's sources copied, node_modules hard-linked, the two scratch routes added. */
function prepareBuildDir(dir) {
  const root = process.cwd();
  const skip = new Set([".git", "node_modules", "test-results", "playwright-report", "coverage", ".vitest"]);
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(root)) {
    if (skip.has(name) || name.startsWith(".next") || name.startsWith("playwright-report-") || name.endsWith(".tsbuildinfo")) continue;
    cpSync(path.join(root, name), path.join(dir, name), { recursive: true, verbatimSymlinks: true });
  }
  const linked = spawnSync("cp", ["-al", path.join(root, "node_modules"), path.join(dir, "node_modules")], { stdio: "inherit" });
  if (linked.status !== 0) throw new Error("could not hard-link node_modules into the build folder");
  // The bench build skips `next build`'s type check (the emitted code is the same; `npm run
  // typecheck` checks the product): it is most of the build's time on a busy machine.
  renameSync(path.join(dir, "next.config.mjs"), path.join(dir, "next.config.product.mjs"));
  writeFileSync(
    path.join(dir, "next.config.mjs"),
    `import product from "./next.config.product.mjs";\n\n` +
      `export default function config(...args) {\n  const c = product(...args);\n  return { ...c, typescript: { ...c.typescript, ignoreBuildErrors: true } };\n}\n`,
  );
  for (const [route, source] of [
    ["bare", BARE_ROUTE],
    ["insert", INSERT_ROUTE],
  ]) {
    mkdirSync(path.join(dir, "app/api/bench", route), { recursive: true });
    writeFileSync(path.join(dir, "app/api/bench", route, "route.ts"), source);
  }
}

/** Inngest's event API (accepts every event) and, on any other path, a Stripe that answers 500 and counts. */
async function startStandIn() {
  const counts = { inngestEvents: 0, stripeCalls: 0 };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      if (req.url?.startsWith("/e/")) {
        const events = JSON.parse(Buffer.concat(chunks).toString("utf8") || "[]");
        const list = Array.isArray(events) ? events : [events];
        counts.inngestEvents += list.length;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ ids: list.map((e, i) => e.id ?? `evt_${i}`), status: 200 }));
      } else {
        counts.stripeCalls += 1;
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { type: "api_error", message: "bench stand-in: no Stripe here" } }));
      }
    });
  });
  await new Promise((resolve, reject) => server.once("error", reject).listen(STANDIN_PORT, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${STANDIN_PORT}`, counts, stop: () => new Promise((r) => server.close(r)) };
}

async function waitForServer(base, child) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${base}${PATHS.bare}`, { method: "POST", body: "{}" });
      if (res.status === 200) return;
      throw new Error(`POST ${PATHS.bare} answered ${res.status}: is this a bench build?`);
    } catch (error) {
      if (error instanceof Error && error.message.includes("bench build")) throw error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error("the server did not come up within 60 s");
}

async function connect(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

// ── Main ──────────────────────────────────────────────────────────────────────────────
async function main() {
  const startedAt = Date.now();
  const runId = Date.now().toString(36);
  const dbName = `payouts_bi_${runId}`;
  const databaseUrl = Object.assign(new URL(ADMIN_URL), { pathname: `/${dbName}` }).toString();
  const keepBuild = Boolean(env.BENCH_BUILD_DIR);
  const buildDir = path.resolve(env.BENCH_BUILD_DIR ?? mkdtempSync(path.join(tmpdir(), "bench-ingest-")));
  const cleanups = [];
  if (!keepBuild) cleanups.push(() => rmSync(buildDir, { recursive: true, force: true }));
  let failedChecks = 0;
  await loadStripeFixtures();
  console.log(`bench-ingest: run ${runId}, load ${loadavg()}, build folder ${buildDir}`);
  try {
    const standIn = await startStandIn();
    cleanups.unshift(() => standIn.stop());
    const appEnv = {
      NODE_ENV: "production",
      DATABASE_URL: databaseUrl,
      NEXTAUTH_URL: `http://127.0.0.1:${PORT}`,
      NEXTAUTH_SECRET: "bench-nextauth-secret-0123456789abcdef",
      BOOKING_WEBHOOK_SECRETS: BOOKING_SECRET,
      STRIPE_SECRET_KEY: "sk_test_bench",
      STRIPE_WEBHOOK_SECRET: STRIPE_SECRET,
      STRIPE_API_HOST: "127.0.0.1",
      STRIPE_API_PORT: String(STANDIN_PORT),
      STRIPE_API_PROTOCOL: "http",
      STRIPE_MAX_NETWORK_RETRIES: "0",
      STRIPE_TIMEOUT_MS: "2000",
      INNGEST_SIGNING_KEY: "signkey-test-bench",
      INNGEST_EVENT_KEY: "bench-event-key",
      AUDIT_CHAIN_KEY: "bench-audit-chain-key-0123456789abcdef",
      // Cloud mode (production refuses INNGEST_DEV), sending events to the stand-in.
      INNGEST_BASE_URL: standIn.url,
      NEXT_TELEMETRY_DISABLED: "1",
    };
    const childEnv = { ...env, ...appEnv };

    // Build.
    let buildSeconds = 0;
    if (env.BENCH_SKIP_BUILD === "1" && existsSync(path.join(buildDir, ".next/BUILD_ID"))) {
      console.log(`▸ Reusing the build in ${buildDir}`);
    } else {
      console.log(`▸ Copying the app into ${buildDir} (node_modules hard-linked) with the scratch routes`);
      rmSync(buildDir, { recursive: true, force: true });
      prepareBuildDir(buildDir);
      buildSeconds = step("Building (next build)", path.join(buildDir, "node_modules/.bin/next"), ["build"], {
        cwd: buildDir,
        env: { ...childEnv, SKIP_ENV_VALIDATION: "1" },
      });
    }

    // Database.
    step(`Migrating scratch database ${dbName}`, path.resolve("node_modules/.bin/tsx"), ["scripts/migrate.ts"], {
      env: { ...childEnv, NODE_ENV: "development" },
    });
    if (env.BENCH_KEEP_DB !== "1") {
      cleanups.push(async () => {
        const admin = await connect(ADMIN_URL);
        await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).finally(() => admin.end());
      });
    }
    const scratch = await connect(databaseUrl);
    cleanups.unshift(() => scratch.end());
    await scratch.query(
      `CREATE TABLE bench_insert (id bigserial PRIMARY KEY, body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
    );
    const admin = await connect(ADMIN_URL);
    cleanups.unshift(() => admin.end());

    // Server.
    console.log(`▸ Starting next start on port ${PORT}`);
    const server = spawn(path.join(buildDir, "node_modules/.bin/next"), ["start", "-p", String(PORT), "-H", "127.0.0.1"], {
      cwd: buildDir,
      env: env.BENCH_SERVER_NODE_OPTIONS ? { ...childEnv, NODE_OPTIONS: env.BENCH_SERVER_NODE_OPTIONS } : childEnv,
      stdio: ["ignore", "pipe", "inherit"],
      detached: true,
    });
    let serverLog = "";
    server.stdout.on("data", (chunk) => {
      serverLog += chunk;
      if (serverLog.length > 200_000) serverLog = serverLog.slice(-100_000);
    });
    cleanups.unshift(async () => {
      if (server.exitCode === null) {
        process.kill(-server.pid, "SIGTERM");
        await new Promise((r) => server.once("exit", r));
      }
    });
    const base = `http://127.0.0.1:${PORT}`;
    await waitForServer(base, server);

    const ledger = new Ledger(runId);
    let scriptQueries = 0; // our own queries on the scratch database (they count in its xact_commit)
    const scratchQuery = (sql, params) => {
      scriptQueries += 1;
      return scratch.query(sql, params);
    };
    const received = async () => (await scratchQuery(`SELECT count(*)::int AS n FROM "WebhookEvent" WHERE status = 'received'`)).rows[0].n;
    /** Polls until no delivery is left `received`; the time it took (ms), or Infinity past the limit. */
    const drain = async (limitMs = DRAIN_LIMIT_MS) => {
      const t0 = Date.now();
      while ((await received()) > 0) {
        if (Date.now() - t0 > limitMs) return Infinity;
        await new Promise((r) => setTimeout(r, 50));
      }
      return Date.now() - t0;
    };
    /**
     * drain(), and when that gave up at its limit, keeps waiting (up to SETTLE_LIMIT_MS) until the
     * backlog is applied, so that the next round starts clean: { drainMs (Infinity past the limit),
     * allAppliedMs (when the last one was applied, however late) }.
     */
    const drainAndSettle = async () => {
      const t0 = Date.now();
      const drainMs = await drain();
      if (Number.isFinite(drainMs)) return { drainMs, allAppliedMs: drainMs };
      const rest = await drain(SETTLE_LIMIT_MS);
      return { drainMs, allAppliedMs: Number.isFinite(rest) ? Date.now() - t0 : Infinity };
    };
    const settleNote = (s) =>
      Number.isFinite(s.drainMs)
        ? ""
        : Number.isFinite(s.allAppliedMs)
          ? ` (all applied ${f1(s.allAppliedMs / 1000)} s after the load)`
          : " (not all applied in 10 min)";
    const run = async (route, options) => {
      const count = options.mode === "rate" ? Math.round(options.rate * options.seconds) : options.count;
      const requests = ledger.requests(route, count);
      const cycle = route === "bare" || route === "insert";
      const result = await load({
        url: `${base}${PATHS[route]}`,
        requests: requests.map(({ body, headers }) => ({ body, headers })),
        cycle,
        ...options,
      });
      ledger.record(route, requests, result);
      return result;
    };
    // CPU time (ms) of the server's processes (its process group) and of the scratch
    // database's backends (but the script's own), read from /proc.
    const ownBackend = (await scratchQuery(`SELECT pg_backend_pid() AS pid`)).rows[0].pid;
    const cpu = async () => {
      const { rows } = await admin.query(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> $2`, [dbName, ownBackend]);
      const pgTimes = new Map();
      for (const { pid } of rows) {
        const t = procCpu(pid);
        if (t) pgTimes.set(pid, t.ms);
      }
      let app = 0;
      for (const name of readdirSync("/proc")) {
        if (!/^\d+$/.test(name)) continue;
        const t = procCpu(name);
        if (t && t.pgrp === server.pid) app += t.ms;
      }
      return { app, pg: pgTimes };
    };
    const closedCount = (route, seconds) => (route === "booking" || route === "stripe" ? Math.ceil(MAX_RATE * seconds) : 1);

    // Warm-up.
    console.log(`▸ Warm-up: ${WARMUP_SECONDS} s per route, ${CONNECTIONS} connections`);
    for (const route of ROUTES) {
      await run(route, { mode: "closed", connections: CONNECTIONS, seconds: WARMUP_SECONDS, count: closedCount(route, WARMUP_SECONDS) });
      if (route === "booking" || route === "stripe") await drain();
    }

    // A production PostgreSQL runs autovacuum (every autovacuum_naptime, 1 min by default, on a
    // table with enough dead rows); this machine's may not (a CI setting). Every delivery leaves a
    // dead row version (received → processed) and an ingest lane a dead one too, and without
    // vacuum the indexes the lanes read grow dead entries round after round: the scratch database
    // is then vacuumed before each round (not counted), as autovacuum would between rounds.
    const autovacuum = (await scratchQuery(`SHOW autovacuum`)).rows[0].autovacuum;
    const vacuumIfNoAutovacuum = async () => {
      if (autovacuum === "off") await scratchQuery(`VACUUM`);
    };
    if (autovacuum === "off") console.log("▸ autovacuum is off on this PostgreSQL: the scratch database is vacuumed before each round");

    // Interleaved closed-loop rounds.
    const rounds = Object.fromEntries(ROUTES.map((r) => [r, []]));
    console.log(
      `▸ ${ROUNDS} interleaved rounds of ${ROUND_SECONDS} s per route, ${CONNECTIONS} connections, closed loop (load ${loadavg()})`,
    );
    for (let r = 0; r < ROUNDS; r += 1) {
      const order = ROUTES.map((_, i) => ROUTES[(i + r) % ROUTES.length]);
      for (const route of order) {
        await vacuumIfNoAutovacuum();
        const cpuBefore = await cpu();
        const result = await run(route, {
          mode: "closed",
          connections: CONNECTIONS,
          seconds: ROUND_SECONDS,
          count: closedCount(route, ROUND_SECONDS),
        });
        const s = summarize(result);
        Object.assign(s, route === "booking" || route === "stripe" ? await drainAndSettle() : { drainMs: 0, allAppliedMs: 0 });
        s.sustained = (s.ok / (s.elapsedMs + s.drainMs)) * 1000;
        // What one server applies per second, however long it took (the steady state a longer load would see).
        s.appliedRate = (s.ok / (s.elapsedMs + s.allAppliedMs)) * 1000;
        const cpuAfter = await cpu();
        s.appCpuMs = (cpuAfter.app - cpuBefore.app) / s.ok;
        s.pgCpuMs = cpuSpent(cpuBefore.pg, cpuAfter.pg) / s.ok;
        rounds[route].push(s);
        console.log(
          `  round ${r + 1} ${route.padEnd(7)} ${f0(s.rps).padStart(6)} req/s  p50 ${f1(s.p50).padStart(6)} ms  p99 ${f1(s.p99).padStart(6)} ms` +
            `  non-200 ${s.non200}${s.exhausted ? "  (ran out of prepared deliveries: raise BENCH_MAX_RATE)" : ""}` +
            (route === "booking" || route === "stripe"
              ? `  drain ${Number.isFinite(s.drainMs) ? `${s.drainMs} ms` : "> 30 s"}${settleNote(s)}  sustained ${f0(s.sustained)}/s, applied ${f0(s.appliedRate)}/s`
              : "") +
            `  CPU/req app ${f1(s.appCpuMs)} ms, PostgreSQL ${f1(s.pgCpuMs)} ms`,
        );
      }
    }

    // Fixed rate on the booking webhook.
    await vacuumIfNoAutovacuum();
    console.log(`▸ Fixed rate: ${FIXED_RATE} requests/s for ${FIXED_SECONDS} s on the booking webhook (load ${loadavg()})`);
    const fixed = summarize(await run("booking", { mode: "rate", rate: FIXED_RATE, seconds: FIXED_SECONDS, connections: 200 }));
    Object.assign(fixed, await drainAndSettle());
    console.log(
      `  ${f1(fixed.rps)} req/s answered 200, p50 ${f1(fixed.p50)} ms, p99 ${f1(fixed.p99)} ms, non-200 ${fixed.non200}` +
        `${fixed.overloaded ? `, OVERLOADED: stopped after ${fixed.sent} of ${Math.round(FIXED_RATE * FIXED_SECONDS)} requests, one had waited ${OVERLOAD_SECONDS} s` : ""}, drain ${Number.isFinite(fixed.drainMs) ? `${fixed.drainMs} ms` : "> 30 s"}${settleNote(fixed)}`,
    );

    // Transactions per request.
    const txns = {};
    if (TXN_SAMPLE > 0) {
      console.log(`▸ Transactions per request: ${TXN_SAMPLE} requests per route, then ${STATS_SETTLE_MS / 1000} s for the statistics`);
      const xacts = async () => {
        const sql = `SELECT xact_commit + xact_rollback AS n, sessions FROM pg_stat_database WHERE datname = $1`;
        const { n, sessions } = (await admin.query(sql, [dbName])).rows[0];
        return { n: Number(n), sessions: Number(sessions) };
      };
      await new Promise((r) => setTimeout(r, STATS_SETTLE_MS));
      for (const route of ["insert", "booking", "stripe"]) {
        const before = await xacts();
        const queriesBefore = scriptQueries;
        const result = await run(route, { mode: "closed", connections: 5, seconds: 600, count: TXN_SAMPLE, limit: TXN_SAMPLE });
        const sample = summarize(result);
        await drain();
        await new Promise((r) => setTimeout(r, STATS_SETTLE_MS));
        const after = await xacts();
        // A new connection's start-up counts as a transaction (the pool re-opens the ones it
        // closed while idle): not the request's.
        const connections = after.sessions - before.sessions;
        const delta = after.n - before.n - (scriptQueries - queriesBefore) - connections;
        txns[route] = delta / result.sent;
        console.log(
          `  ${route.padEnd(7)} ${txns[route].toFixed(2)} transactions per request (${delta} for ${result.sent}; ${connections} connection start-ups left out);` +
            ` at 5 connections ${f0(sample.rps)} req/s, p50 ${f1(sample.p50)} ms`,
        );
      }
    }
    const loadAfter = loadavg();

    // Exactly once.
    console.log("▸ Checking that every accepted delivery was applied exactly once");
    const finalDrainMs = await drain();
    const failures = await checkExactlyOnce(scratchQuery, ledger);
    failedChecks = failures.length;
    if (standIn.counts.stripeCalls > 0)
      failures.push(`the app called Stripe ${standIn.counts.stripeCalls} time(s) (the stand-in answered 500)`);

    // Report.
    const med = Object.fromEntries(
      ALL_ROUTES.map((route) => {
        const list = rounds[route] ?? [];
        return [
          route,
          {
            rps: median(list.map((s) => s.rps)),
            sustained: median(list.map((s) => s.sustained)),
            appliedRate: median(list.map((s) => s.appliedRate)),
            p50: median(list.map((s) => s.p50)),
            p99: median(list.map((s) => s.p99)),
            drainMax: Math.max(...list.map((s) => s.drainMs)),
            appCpuMs: median(list.map((s) => s.appCpuMs)),
            pgCpuMs: median(list.map((s) => s.pgCpuMs)),
            non200: list.reduce((n, s) => n + s.non200, 0),
          },
        ];
      }),
    );
    console.log(`\n══ Webhook ingest, side by side (run ${runId}) ══`);
    console.log(`closed loop, ${CONNECTIONS} connections, median of ${ROUNDS} interleaved ${ROUND_SECONDS}-s rounds:`);
    console.log(`route      req/s   sustained/s   p50 ms   p99 ms   max drain   non-200   txn/req   CPU ms/req: app   PostgreSQL`);
    for (const route of ROUTES) {
      const m = med[route];
      const webhook = route === "booking" || route === "stripe";
      console.log(
        `${route.padEnd(8)} ${f0(m.rps).padStart(7)} ${(webhook ? f0(m.sustained) : "").padStart(13)} ${f1(m.p50).padStart(8)} ${f1(m.p99).padStart(8)}` +
          ` ${(webhook ? (Number.isFinite(m.drainMax) ? `${m.drainMax} ms` : "> 30 s") : "").padStart(11)} ${String(m.non200).padStart(9)}` +
          ` ${(route === "bare" || txns[route] === undefined ? "" : txns[route].toFixed(2)).padStart(9)}` +
          ` ${f1(m.appCpuMs).padStart(18)} ${f1(m.pgCpuMs).padStart(12)}`,
      );
    }
    const ratio = (a, b) => a / b;
    console.log("ratios (medians; sustained for the webhooks):");
    console.log(`  insert / bare            ${ratio(med.insert.rps, med.bare.rps).toFixed(2)}`);
    console.log(
      `  booking / insert         ${ratio(med.booking.sustained, med.insert.rps).toFixed(2)}   (answered ${ratio(med.booking.rps, med.insert.rps).toFixed(2)}, applied ${ratio(med.booking.appliedRate, med.insert.rps).toFixed(2)})`,
    );
    console.log(
      `  stripe / insert          ${ratio(med.stripe.sustained, med.insert.rps).toFixed(2)}   (answered ${ratio(med.stripe.rps, med.insert.rps).toFixed(2)}, applied ${ratio(med.stripe.appliedRate, med.insert.rps).toFixed(2)})`,
    );
    console.log(`  booking p50 / insert p50 ${ratio(med.booking.p50, med.insert.p50).toFixed(1)}`);
    console.log(
      `fixed rate ${FIXED_RATE}/s on the booking webhook for ${FIXED_SECONDS} s: ${f1(fixed.rps)} req/s, p50 ${f1(fixed.p50)} ms, p99 ${f1(fixed.p99)} ms` +
        (fixed.overloaded ? ` (overloaded: stopped after ${fixed.sent} requests)` : ""),
    );
    console.log(`Inngest stand-in: ${standIn.counts.inngestEvents} events received; Stripe calls: ${standIn.counts.stripeCalls}`);
    console.log(`load: ${loadAfter} (at the end of the load)`);

    const drains = [...(rounds.booking ?? []), ...(rounds.stripe ?? [])].map((s) => s.drainMs).concat([fixed.drainMs, finalDrainMs]);
    const worstDrain = Math.max(...drains);
    const goals = [
      [
        `sustained booking-webhook throughput ≥ 50 % of the one-insert route: ${f0(med.booking.sustained)} vs ${f0(med.insert.rps)} req/s = ${(ratio(med.booking.sustained, med.insert.rps) * 100).toFixed(0)} %`,
        ratio(med.booking.sustained, med.insert.rps) >= 0.5,
      ],
      [
        `every answered delivery applied within 30 s after the load stops: longest drain ${Number.isFinite(worstDrain) ? `${worstDrain} ms` : "> 30 s"}`,
        Number.isFinite(worstDrain) && worstDrain <= DRAIN_LIMIT_MS,
      ],
      [
        `p99 < 100 ms at ${FIXED_RATE} requests/s on the booking webhook: ${f1(fixed.p99)} ms${fixed.overloaded ? " (overloaded)" : ""}`,
        fixed.p99 < 100 && fixed.non200 === 0 && !fixed.overloaded,
      ],
      [`every accepted delivery applied exactly once${failures.length ? `: ${failures.length} problem(s)` : ""}`, failures.length === 0],
    ];
    for (const [text, ok] of goals) console.log(`${ok ? "PASS" : "FAIL"} ${text}`);
    for (const failure of failures) console.log(`  ✗ ${failure}`);
    failedChecks = failures.length;
    console.log(`(whole run ${((Date.now() - startedAt) / 1000).toFixed(0)} s, build ${buildSeconds.toFixed(0)} s)`);
    const errorLines = serverLog.split("\n").filter((l) => /error/i.test(l));
    if (errorLines.length)
      console.log(`server log: ${errorLines.length} line(s) mentioning an error, first: ${errorLines[0].slice(0, 300)}`);
    console.log(
      `BENCH_INGEST ${JSON.stringify({ runId, rounds: ROUNDS, roundSeconds: ROUND_SECONDS, connections: CONNECTIONS, median: med, fixed, txns, loadavg: loadAfter, failures })}`,
    );
  } finally {
    for (const cleanup of cleanups) {
      try {
        await cleanup();
      } catch (error) {
        console.error("cleanup:", error instanceof Error ? error.message : error);
      }
    }
  }
  if (failedChecks > 0) process.exitCode = 1;
}

/** The exactly-once checks (see the header); the list of what failed. */
async function checkExactlyOnce(query, ledger) {
  const failures = [];
  const sent = [...ledger.deliveries.values()];
  const answered = sent.filter((d) => d.answered200 > 0);
  const fail = (text) => failures.push(text);

  // Stored once per answered delivery; stored rows == answered-200 non-duplicates, plus the
  // deliveries stored whose answer never came (a client timeout or socket error: non-200).
  const { rows: stored } = await query(`SELECT source::text, "externalId", type, status::text, error FROM "WebhookEvent"`);
  const storedByKey = new Map(stored.map((r) => [`${r.source}:${r.externalId}`, r]));
  const isStored = (d) => storedByKey.has(`${d.source}:${d.externalId}`);
  for (const source of ["booking_platform", "stripe"]) {
    const ofSource = sent.filter((d) => d.source === source);
    const fresh = ofSource.reduce((n, d) => n + d.fresh200, 0);
    const storedUnanswered = ofSource.filter((d) => d.answered200 === 0 && d.attempts > 0 && isStored(d)).length;
    const rows = stored.filter((r) => r.source === source).length;
    console.log(
      `  ${source}: ${rows} stored, ${fresh} answered 200 as new, ${storedUnanswered} stored without an answer (${answered.filter((d) => d.source === source).length} distinct answered)`,
    );
    if (rows !== fresh + storedUnanswered)
      fail(`${source}: ${rows} stored deliveries, ${fresh} answered 200 as new + ${storedUnanswered} unanswered`);
  }
  const strangers = stored.filter((r) => !(ledger.deliveries.get(`${r.source}:${r.externalId}`)?.attempts > 0));
  if (strangers.length) fail(`${strangers.length} stored deliveries the bench never sent (e.g. ${strangers[0].externalId})`);
  const notStored = answered.filter((d) => !isStored(d));
  if (notStored.length) fail(`${notStored.length} deliveries answered 200 but not stored (e.g. ${notStored[0].externalId})`);
  const twiceNew = sent.filter((d) => d.fresh200 > 1);
  if (twiceNew.length) fail(`${twiceNew.length} deliveries answered as new more than once (e.g. ${twiceNew[0].externalId})`);

  // Outcomes.
  const statuses = {};
  for (const r of stored) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  console.log(`  stored deliveries by status: ${JSON.stringify(statuses)}`);
  const ignoredTypes = new Set(["charge.succeeded"]);
  const wrong = stored.filter((r) => (ignoredTypes.has(r.type) ? r.status !== "ignored" : r.status !== "processed"));
  if (wrong.length) {
    const sample = wrong.slice(0, 3).map((r) => `${r.type} ${r.externalId} ${r.status}${r.error ? `: ${r.error.slice(0, 160)}` : ""}`);
    fail(`${wrong.length} deliveries not processed (or ignored for charge.succeeded): ${sample.join(" | ")}`);
  }

  // Bookings and payouts: one payout per completed booking, its share plus its accepted tips.
  // What must have been applied: every stored delivery (answered or not).
  const bookingsSent = sent.filter((d) => d.kind === "booking" && isStored(d));
  const tipsSent = sent.filter((d) => d.kind === "tip" && isStored(d));
  const { rows: payouts } = await query(
    `SELECT b."externalId", b."completedAt" IS NOT NULL AS completed, count(p.id)::int AS payouts, min(p."providerShare") AS share,
            min(p."tipAmount") AS tips, min(p.amount) AS amount,
            (SELECT coalesce(sum(t.amount), 0)::int FROM "Tip" t WHERE t."bookingId" = b.id AND t.status = 'accepted') AS accepted_tips
       FROM "Booking" b LEFT JOIN "Payout" p ON p."bookingId" = b.id GROUP BY b.id`,
  );
  const payoutByBooking = new Map(payouts.map((r) => [r.externalId, r]));
  let bookingProblems = 0;
  for (const d of bookingsSent) {
    const r = payoutByBooking.get(d.bookingId);
    if (
      !r ||
      !r.completed ||
      r.payouts !== 1 ||
      r.share !== d.share ||
      r.tips !== r.accepted_tips ||
      r.amount !== d.share + r.accepted_tips
    ) {
      if (bookingProblems++ < 3) fail(`booking ${d.bookingId}: ${r ? JSON.stringify(r) : "not recorded"} (share sent ${d.share})`);
    }
  }
  if (bookingProblems > 3) fail(`… ${bookingProblems} bookings in all without exactly one payout of share + accepted tips`);
  if (payouts.length !== bookingsSent.length)
    fail(`${payouts.length} bookings recorded, ${bookingsSent.length} booking.completed deliveries stored`);

  // Tips: each recorded once, on its booking, with its amount.
  const { rows: tips } = await query(
    `SELECT t."externalId", t.amount, t.status::text, b."externalId" AS booking FROM "Tip" t JOIN "Booking" b ON b.id = t."bookingId"`,
  );
  const tipById = new Map(tips.map((t) => [t.externalId, t]));
  const tipStatuses = {};
  let tipProblems = 0;
  for (const d of tipsSent) {
    const t = tipById.get(d.tipId);
    if (t) tipStatuses[t.status] = (tipStatuses[t.status] ?? 0) + 1;
    if (!t || t.amount !== d.amount || t.booking !== d.bookingId) {
      if (tipProblems++ < 3) fail(`tip ${d.tipId}: ${t ? JSON.stringify(t) : "not recorded"}`);
    }
  }
  if (tips.length !== tipsSent.length) fail(`${tips.length} tips recorded, ${tipsSent.length} tip.created deliveries stored`);
  console.log(`  ${payouts.length} bookings, ${tips.length} tips ${JSON.stringify(tipStatuses)}`);

  // Audit: one booking.completed and one payout.scheduled per booking, one tip decision per tip.
  const { rows: audit } = await query(
    `SELECT action, count(*)::int AS n, count(DISTINCT "entityId")::int AS entities FROM "AuditLog" GROUP BY action ORDER BY action`,
  );
  console.log(`  audit: ${audit.map((a) => `${a.action} ${a.n}`).join(", ")}`);
  const auditOf = (action) => audit.find((a) => a.action === action) ?? { n: 0, entities: 0 };
  for (const action of ["booking.completed", "payout.scheduled"]) {
    const a = auditOf(action);
    if (a.n !== bookingsSent.length || a.entities !== a.n)
      fail(`audit ${action}: ${a.n} entries on ${a.entities} entities for ${bookingsSent.length} bookings`);
  }
  const tipAudit = auditOf("tip.accepted").n + auditOf("tip.rejected").n;
  if (tipAudit !== tipsSent.length) fail(`audit tip.accepted + tip.rejected: ${tipAudit} entries for ${tipsSent.length} tips`);

  // Outbox: one booking/completed event per booking delivery applied, named by its delivery id.
  const { rows: outbox } = await query(
    `SELECT count(*)::int AS n, count(DISTINCT w.id)::int AS deliveries
       FROM "OutboxEvent" o JOIN "WebhookEvent" w ON w.id::text = o."eventId"
      WHERE o.name = 'booking/completed' AND w.type = 'booking.completed'`,
  );
  if (outbox[0].n !== bookingsSent.length || outbox[0].deliveries !== outbox[0].n) {
    fail(`outbox booking/completed: ${outbox[0].n} events for ${outbox[0].deliveries} deliveries, ${bookingsSent.length} bookings`);
  }

  // The one-insert route: one row per 200.
  const { rows: inserted } = await query(`SELECT count(*)::int AS n FROM bench_insert`);
  // A request the client gave up on (non-200) may have inserted its row.
  if (inserted[0].n < ledger.insert200 || inserted[0].n > ledger.insertSent) {
    fail(`bench_insert: ${inserted[0].n} rows for ${ledger.insert200} answers 200 (${ledger.insertSent} sent)`);
  }
  console.log(`  one-insert route: ${inserted[0].n} rows for ${ledger.insert200} answers 200`);
  return failures;
}

// Last, once every declaration above is initialised: the main thread runs the bench, a worker the load.
if (isMainThread) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.stack : error);
    process.exit(1);
  });
} else {
  runLoad(workerData).then((result) => parentPort.postMessage(result));
}
