// Measures the payouts list against a running server (`next start`), signed in like a browser:
// the server-rendered page /payouts and the list API /api/admin/payouts for a set of filters,
// searches, sorts and a deep keyset page, a payout's detail (/payouts/<id> and its API) and the
// overview (/ and /api/admin/overview), then the CSV export (throughput, and the server's memory
// while it streams). Prints p50/p95/max per scenario.
//
//   tsx scripts/generate-payouts.ts --count 1000000 --database-url postgresql://postgres@127.0.0.1:5432/payouts_bench_1m
//   DATABASE_URL=…/payouts_bench_1m npm run db:seed          # the demo logins
//   (build and start the app on that database, e.g. on port 3402)
//   tsx scripts/bench-payouts-list.ts --base-url http://127.0.0.1:3402 [--runs 30] [--no-export] [--server-pid <pid>]
//        [--compare-url http://127.0.0.1:3403]   # a second server (e.g. other code, same data): runs interleaved, B/A ratios
//        [--only <text>]                          # only the scenarios whose name contains it (no export)
//        [--export-only]                          # only the CSV export
//
// Times are wall-clock on the client over loopback (the whole response read), so they are
// the server's time plus a little; the list API's own `Server-Timing: db;dur=` is shown beside it.
//
// Measured 2026-12-02 (issue 13, docs/benchmarks.md "Lists at one million payouts"): 1,001,960
// payouts, before (A) and after (B) the list_indexes migration and the capped count, interleaved,
// 30 runs each, on a machine shared with other helpers (load 7–11 on 2 cores: absolute times 2–4×
// an idle machine's). List API p95 A → B: first page 152 → 37 ms; currency + amount range 321 → 94;
// amount ≥ 400 377 → 183; due-date window sorted by creation 210 → 32; provider-name prefix
// 360 → 140; sort by amount 154 → 28; booking id 83 → 42 (db p95 of every list scenario ≤ 31 ms
// after, except the name prefix, 122). Overview API p95 1,585 → 901 ms (its totals over every payout
// still read the whole table). Payout detail unchanged (API p95 ≈ 57 ms at that load). CSV export of
// everything: 1,001,960 rows, 238 MiB in 122 s at load 7.5, first byte 85 ms, RSS +340 MiB at peak
// (flat with a slow reader: V8 heap growth, not buffering; +41 MiB at load 2.5 on 2026-11-24).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

type TScenario = { name: string; qs: string };

const { values } = parseArgs({
  options: {
    "base-url": { type: "string", default: "http://127.0.0.1:3402" },
    email: { type: "string", default: "viewer@payouts.test" },
    password: { type: "string", default: "demo-viewer-pass" },
    runs: { type: "string", default: "30" },
    warmup: { type: "string", default: "3" },
    "no-export": { type: "boolean", default: false },
    "export-only": { type: "boolean", default: false },
    "server-pid": { type: "string" },
    "compare-url": { type: "string" },
    only: { type: "string" },
  },
});
const BASE = (values["base-url"] ?? "").replace(/\/$/, "");
const COMPARE = values["compare-url"]?.replace(/\/$/, "") ?? null;
const RUNS = Number(values.runs);
const WARMUP = Number(values.warmup);

/** One server under test, signed in with its own cookies (like a browser would for its host). */
type TServer = { base: string; jar: Map<string, string>; cookie: string };

const server = (base: string): TServer => ({ base, jar: new Map(), cookie: "" });

/** Keeps the cookies a response sets (name=value only). */
function remember(s: TServer, response: Response): void {
  for (const set of response.headers.getSetCookie()) {
    const [pair = ""] = set.split(";");
    const eq = pair.indexOf("=");
    s.jar.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  s.cookie = [...s.jar].map(([k, v]) => `${k}=${v}`).join("; ");
}

async function signIn(s: TServer): Promise<void> {
  const csrfResponse = await fetch(`${s.base}/api/auth/csrf`);
  remember(s, csrfResponse);
  const { csrfToken } = (await csrfResponse.json()) as { csrfToken: string };
  const response = await fetch(`${s.base}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: s.cookie },
    body: new URLSearchParams({ csrfToken, email: values.email ?? "", password: values.password ?? "", json: "true" }),
  });
  remember(s, response);
  if (!s.cookie.includes("session-token"))
    throw new Error(`Sign-in to ${s.base} failed (${response.status}): check --email/--password and that the demo users exist.`);
}

async function timed(
  s: TServer,
  path: string,
): Promise<{ ms: number; status: number; bytes: number; serverMs: number | null; body: string }> {
  const started = performance.now();
  const response = await fetch(`${s.base}${path}`, {
    headers: { cookie: s.cookie, accept: path.startsWith("/api/") ? "application/json" : "text/html" },
  });
  const body = await response.text();
  const ms = performance.now() - started;
  const timing = /dur=([\d.]+)/.exec(response.headers.get("server-timing") ?? "");
  return { ms, status: response.status, bytes: body.length, serverMs: timing ? Number(timing[1]) : null, body };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) ?? NaN };
}

const fmt = (n: number) => (Number.isNaN(n) ? "-" : n < 10 ? n.toFixed(1) : Math.round(n).toString());

type TMeasure = { status: number; rows: number; p50: number; p95: number; max: number; server: ReturnType<typeof stats> | null };

/** Times `path` on each server, the runs interleaved (A, B, A, B, …) so that both see the same machine load. */
async function measure(servers: TServer[], path: string): Promise<TMeasure[]> {
  for (let i = 0; i < WARMUP; i++) for (const s of servers) await timed(s, path);
  const samples = servers.map(() => ({ ms: [] as number[], server: [] as number[], status: 0, rows: 0 }));
  for (let i = 0; i < RUNS; i++) {
    for (const [k, s] of servers.entries()) {
      const r = await timed(s, path);
      const out = samples[k]!;
      out.status = r.status;
      out.ms.push(r.ms);
      if (r.serverMs !== null) out.server.push(r.serverMs);
      if (i === 0 && path.startsWith("/api/")) out.rows = (JSON.parse(r.body) as { items?: unknown[] }).items?.length ?? 0;
    }
  }
  return samples.map((x) => ({ status: x.status, rows: x.rows, ...stats(x.ms), server: x.server.length ? stats(x.server) : null }));
}

/** The pid listening on the server's port (for its memory), from `ss`. */
function serverPid(): number | null {
  if (values["server-pid"]) return Number(values["server-pid"]);
  if (COMPARE) return null;
  try {
    const port = new URL(BASE).port;
    const out = execFileSync("ss", ["-ltnpH", `sport = :${port}`], { encoding: "utf8" });
    const match = /pid=(\d+)/.exec(out);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function measureExport(s: TServer, qs: string, pid: number | null) {
  const before = pid ? rssMb(pid) : NaN;
  let peak = before;
  const sampler = pid ? setInterval(() => (peak = Math.max(peak, rssMb(pid))), 100) : null;
  const started = performance.now();
  const response = await fetch(`${s.base}/api/admin/payouts/export${qs ? `?${qs}` : ""}`, { headers: { cookie: s.cookie } });
  let firstByteMs = NaN;
  let bytes = 0;
  let lines = 0;
  const reader = response.body!.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    if (Number.isNaN(firstByteMs)) firstByteMs = performance.now() - started;
    bytes += value.byteLength;
    for (const byte of value) if (byte === 10) lines++;
  }
  const seconds = (performance.now() - started) / 1000;
  if (sampler) clearInterval(sampler);
  return {
    status: response.status,
    rows: lines - 1,
    bytes,
    seconds,
    firstByteMs,
    rowsPerSecond: (lines - 1) / seconds,
    rssBefore: before,
    rssPeak: peak,
  };
}

async function main(): Promise<void> {
  const a = server(BASE);
  const servers = COMPARE ? [a, server(COMPARE)] : [a];
  for (const s of servers) await signIn(s);
  console.log(
    `Signed in to ${servers.map((s) => s.base).join(" and ")} as ${values.email}; ${RUNS} runs per scenario after ${WARMUP} warm-up runs` +
      `${COMPARE ? " (interleaved: A = --base-url, B = --compare-url, the same database contents)" : ""}.\n`,
  );

  // Real values to search and filter for, taken from the data.
  const first = JSON.parse((await timed(a, "/api/admin/payouts?limit=200")).body) as {
    items: {
      id: string;
      stripeTransferId: string | null;
      booking: { externalId: string };
      provider: { externalId: string; name: string };
    }[];
  };
  const transferred = JSON.parse((await timed(a, "/api/admin/payouts?status=transferred&limit=1")).body) as typeof first;
  const sample = first.items[100] ?? first.items[0];
  if (!sample) throw new Error("No payouts: generate them first (scripts/generate-payouts.ts).");
  const namePrefix = sample.provider.name.split(" ")[0] ?? "A";
  const today = new Date();
  const day = (offset: number) => new Date(today.getTime() + offset * 86_400_000).toISOString().slice(0, 10);

  // A page 200 pages (10,000 rows) deep, reached by following the cursors.
  let deep = "";
  let cursor: string | null = null;
  for (let i = 0; i < 200; i++) {
    const page = JSON.parse((await timed(a, `/api/admin/payouts${cursor ? `?after=${cursor}` : ""}`)).body) as {
      pageInfo: { nextCursor: string | null };
    };
    cursor = page.pageInfo.nextCursor;
    if (!cursor) break;
    deep = `after=${cursor}`;
  }

  const scenarios: TScenario[] = [
    { name: "first page, no filter", qs: "" },
    { name: "status on_hold", qs: "status=on_hold" },
    { name: "status failed + on_hold", qs: "status=failed&status=on_hold" },
    {
      name: "status×2 + provider + 90-day range",
      qs: `status=scheduled&status=transferred&provider=${sample.provider.externalId}&from=${day(-90)}&to=${day(0)}`,
    },
    { name: "currency EUR + amount 100–200", qs: "currency=EUR&amountMin=100&amountMax=200" },
    { name: "amount ≥ 400, any currency", qs: "amountMin=400" },
    { name: "due in a 30-day window, newest created", qs: `date=eligible&from=${day(-60)}&to=${day(-30)}` },
    { name: "due in a 30-day window, due soonest", qs: `date=eligible&from=${day(-60)}&to=${day(-30)}&sort=eligibleAt&order=asc` },
    { name: "sort amount desc", qs: "sort=amount&order=desc" },
    { name: "transferred, due soonest", qs: "status=transferred&sort=eligibleAt&order=asc" },
    { name: `search provider name "${namePrefix}"`, qs: `q=${encodeURIComponent(namePrefix)}` },
    { name: "search booking id", qs: `q=${encodeURIComponent(sample.booking.externalId)}` },
    { name: "search payout id", qs: `q=${sample.id}` },
    ...(transferred.items[0]?.stripeTransferId ? [{ name: "search transfer id", qs: `q=${transferred.items[0].stripeTransferId}` }] : []),
    ...(deep ? [{ name: "page 201 (10,000 rows deep)", qs: deep }] : []),
  ];

  const only = values.only?.toLowerCase();
  const chosen = (name: string) => !only || name.toLowerCase().includes(only);

  // The other pages a person opens from the list: one payout's detail, and the overview (dashboard home).
  const detailId = transferred.items[0]?.id ?? sample.id;
  const targets = [
    ...scenarios.map((x) => ({
      name: x.name,
      page: `/payouts${x.qs ? `?${x.qs}` : ""}`,
      api: `/api/admin/payouts${x.qs ? `?${x.qs}` : ""}`,
    })),
    { name: "payout detail (transferred)", page: `/payouts/${detailId}`, api: `/api/admin/payouts/${detailId}` },
    { name: "payout detail (list row 100)", page: `/payouts/${sample.id}`, api: `/api/admin/payouts/${sample.id}` },
    { name: "overview", page: "/", api: "/api/admin/overview" },
  ].filter((x) => chosen(x.name) && !values["export-only"]);

  const header = COMPARE
    ? ["scenario", "rows", "page p50 A→B", "page p95 A→B", "api p50 A→B", "api p95 A→B", "api p95 B/A", "db p95 A→B"]
    : ["scenario", "rows", "page p50", "page p95", "api p50", "api p95", "api max", "db p50", "db p95"];
  const table: string[][] = [];
  for (const t of targets) {
    const pages = await measure(servers, t.page);
    const apis = await measure(servers, t.api);
    for (const [k, s] of servers.entries())
      if (pages[k]!.status !== 200 || apis[k]!.status !== 200)
        throw new Error(`${t.name} on ${s.base}: HTTP ${pages[k]!.status}/${apis[k]!.status}`);
    const [pa, pb] = pages as [TMeasure, TMeasure | undefined];
    const [xa, xb] = apis as [TMeasure, TMeasure | undefined];
    const rows = t.api.startsWith("/api/admin/payouts?") || t.api === "/api/admin/payouts" ? String(xa.rows) : "-";
    if (pb && xb) {
      const pair = (x: number, y: number) => `${fmt(x)} → ${fmt(y)}`;
      table.push([
        t.name,
        rows,
        pair(pa.p50, pb.p50),
        pair(pa.p95, pb.p95),
        pair(xa.p50, xb.p50),
        pair(xa.p95, xb.p95),
        (xb.p95 / xa.p95).toFixed(2),
        pair(xa.server?.p95 ?? NaN, xb.server?.p95 ?? NaN),
      ]);
    } else {
      table.push([
        t.name,
        rows,
        fmt(pa.p50),
        fmt(pa.p95),
        fmt(xa.p50),
        fmt(xa.p95),
        fmt(xa.max),
        fmt(xa.server?.p50 ?? NaN),
        fmt(xa.server?.p95 ?? NaN),
      ]);
    }
  }

  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  if (table.length > 0) {
    console.log(
      "Times in ms (page = whole server-rendered HTML of /payouts, /payouts/<id> or /; api = /api/admin/payouts, /api/admin/payouts/<id>\n" +
        "or /api/admin/overview; db = the list API's Server-Timing)",
    );
    console.log(line(header));
    for (const r of table) console.log(line(r));
  }

  if (!values["no-export"] && !only) {
    const pid = serverPid();
    console.log(`\nCSV export${pid ? ` (server pid ${pid}, RSS sampled every 100 ms)` : " (server pid unknown: no memory figures)"}`);
    for (const [name, qs] of [
      ["status failed", "status=failed"],
      ["everything", ""],
    ] as const) {
      const r = await measureExport(a, qs, pid);
      console.log(
        `  ${name.padEnd(14)} HTTP ${r.status}  ${r.rows.toLocaleString("en-US")} rows  ${(r.bytes / 1_048_576).toFixed(1)} MiB  ` +
          `${r.seconds.toFixed(1)} s  ${Math.round(r.rowsPerSecond).toLocaleString("en-US")} rows/s  first byte ${fmt(r.firstByteMs)} ms` +
          (pid ? `  RSS ${Math.round(r.rssBefore)} → peak ${Math.round(r.rssPeak)} MiB` : ""),
      );
    }
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
