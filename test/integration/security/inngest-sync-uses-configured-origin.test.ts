// An unsigned (or forged) `PUT /api/inngest` must not make the app register itself with Inngest,
// and a signed sync registers the configured origin, never the request's Host header. The route
// runs in-process in cloud mode (as in production) against a local HTTP server standing in for
// Inngest's API, which records every request that reaches it.
import { createHmac, randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

import { NextRequest } from "next/server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { resetEnvForTests } from "@/lib/env";

type TRecorded = { method: string; path: string; headers: IncomingHttpHeaders; body: string };

const CONFIGURED_ORIGIN = "https://payouts.example.com";
const SIGNING_KEY = `signkey-test-${randomBytes(32).toString("hex")}`;
const OTHER_KEY = `signkey-test-${randomBytes(32).toString("hex")}`;

const recorded: TRecorded[] = [];
const inngestApi = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    recorded.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ ok: true, modified: true }));
  });
});

const saved: Record<string, string | undefined> = {};
// The origin is configured through NEXTAUTH_URL (INNGEST_SERVE_ORIGIN's fallback): the SDK reads
// INNGEST_SERVE_ORIGIN from the environment by itself, so only this proves the app passes it on.
const CLOUD_MODE: Record<string, string | undefined> = {
  INNGEST_DEV: "0",
  INNGEST_SIGNING_KEY: SIGNING_KEY,
  INNGEST_EVENT_KEY: "event-key-for-the-sync-test",
  INNGEST_SERVE_ORIGIN: undefined,
  NEXTAUTH_URL: `${CONFIGURED_ORIGIN}/`,
};

let route: typeof import("@/app/api/inngest/route");

beforeAll(async () => {
  await new Promise<void>((resolve) => inngestApi.listen(0, "127.0.0.1", resolve));
  const { port } = inngestApi.address() as AddressInfo;
  for (const [key, value] of Object.entries({ ...CLOUD_MODE, INNGEST_BASE_URL: `http://127.0.0.1:${port}` })) {
    saved[key] = process.env[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  resetEnvForTests();
  route = await import("@/app/api/inngest/route");
});

afterAll(async () => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  resetEnvForTests();
  await new Promise<void>((resolve) => inngestApi.close(() => resolve()));
});

beforeEach(() => {
  recorded.length = 0;
});

/** Inngest's request signature: HMAC-SHA256 of the body and the timestamp, keyed by the key without its prefix. */
function sign(body: string, key: string, at = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac("sha256", key.replace(/^signkey-\w+-/, ""))
    .update(body + String(at))
    .digest("hex");
  return `t=${at}&s=${mac}`;
}

const sync = (request: Request) => route.PUT(new NextRequest(request), undefined);
const introspect = (request: Request) => route.GET(new NextRequest(request), undefined);

function put(url: string, headers: Record<string, string>, body = ""): Request {
  return new Request(url, { method: "PUT", headers, ...(body ? { body } : {}) });
}

describe("PUT /api/inngest (sync)", () => {
  it("refuses an unsigned sync with a foreign Host header and registers nothing", async () => {
    const response = await sync(put("http://evil.example/api/inngest", { host: "evil.example" }));

    expect(response.status).toBe(401);
    expect(recorded).toEqual([]);
  });

  it("refuses an unsigned in-band sync that names a foreign URL", async () => {
    const body = JSON.stringify({ url: "https://evil.example/api/inngest" });
    const response = await sync(
      put(
        "http://evil.example/api/inngest",
        { host: "evil.example", "content-type": "application/json", "x-inngest-sync-kind": "in_band" },
        body,
      ),
    );

    expect(response.status).toBe(401);
    expect(await response.text()).not.toContain("evil.example");
    expect(recorded).toEqual([]);
  });

  it("refuses a forged signature (another key, or an expired one) and registers nothing", async () => {
    const forged = await sync(put("http://evil.example/api/inngest", { host: "evil.example", "x-inngest-signature": sign("", OTHER_KEY) }));
    const expired = await sync(
      put("http://evil.example/api/inngest", {
        host: "evil.example",
        "x-inngest-signature": sign("", SIGNING_KEY, Math.floor(Date.now() / 1000) - 10 * 60),
      }),
    );
    const garbage = await sync(put("http://evil.example/api/inngest", { host: "evil.example", "x-inngest-signature": "t=1&s=00" }));

    expect([forged.status, expired.status, garbage.status]).toEqual([401, 401, 401]);
    expect(recorded).toEqual([]);
  });

  it("registers the configured origin, not the Host header, on a signed sync", async () => {
    const response = await sync(
      put("http://evil.example/api/inngest", { host: "evil.example", "x-inngest-signature": sign("", SIGNING_KEY) }),
    );

    expect(response.status).toBe(200);
    expect(recorded).toHaveLength(1);
    const [registration] = recorded;
    expect(registration?.method).toBe("POST");
    expect(registration?.path).toBe("/fn/register");
    const body = JSON.parse(registration!.body) as { url: string; functions: { steps: Record<string, { runtime: { url: string } }> }[] };
    expect(body.url).toBe(`${CONFIGURED_ORIGIN}/api/inngest`);
    const stepUrls = body.functions.flatMap((fn) => Object.values(fn.steps).map((step) => step.runtime.url));
    expect(stepUrls.length).toBeGreaterThan(0);
    for (const url of stepUrls) expect(new URL(url).origin).toBe(CONFIGURED_ORIGIN);
    expect(registration!.body).not.toContain("evil.example");
  });

  it("answers a signed in-band sync with the configured origin, not the URL in its body", async () => {
    const body = JSON.stringify({ url: "https://evil.example/api/inngest" });
    const response = await sync(
      put(
        "http://evil.example/api/inngest",
        {
          host: "evil.example",
          "content-type": "application/json",
          "x-inngest-sync-kind": "in_band",
          "x-inngest-signature": sign(body, SIGNING_KEY),
        },
        body,
      ),
    );

    expect(response.status).toBe(200);
    const answer = (await response.json()) as { url: string; functions: unknown[] };
    expect(answer.url).toBe(`${CONFIGURED_ORIGIN}/api/inngest`);
    expect(answer.functions.length).toBeGreaterThan(0);
    expect(JSON.stringify(answer)).not.toContain("evil.example");
    expect(recorded).toEqual([]);
  });
});

describe("GET /api/inngest (introspection)", () => {
  it("refuses an unsigned request", async () => {
    const response = await introspect(new Request("http://evil.example/api/inngest", { headers: { host: "evil.example" } }));
    expect(response.status).toBe(401);
  });
});
