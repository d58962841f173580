// The HTTP edges every route shares: body limits and content types (next-auth's endpoints
// included, one wording for a body too large wherever it is refused), text PostgreSQL cannot
// store refused as a 400 naming the parameter, and a CSV export that fails part-way ending so a
// client can tell. Handlers, services and the database are real; the session is the one
// boundary replaced (test/support/sessions.ts).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { pipeToNodeResponse } from "next/dist/server/pipe-readable";
import { NextRequest } from "next/server";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";

import { GET as alertsList } from "@/app/api/admin/alerts/route";
import { GET as auditList } from "@/app/api/admin/audit/route";
import { GET as disputesList } from "@/app/api/admin/disputes/route";
import { POST as payoutAction } from "@/app/api/admin/payouts/[id]/actions/route";
import { GET as exportCsv } from "@/app/api/admin/payouts/export/route";
import { GET as payoutsList } from "@/app/api/admin/payouts/route";
import { GET as providersList } from "@/app/api/admin/providers/route";
import { POST as createUser } from "@/app/api/admin/users/route";
import { GET as deliveriesList } from "@/app/api/admin/webhook-deliveries/route";
import { POST as authPost } from "@/app/api/auth/[...nextauth]/route";
import { POST as bookingWebhook } from "@/app/api/webhooks/booking/route";
import { limitBody, MAX_AUTH_BODY_BYTES } from "@/lib/api/limit-body";
import { db } from "@/lib/db";
import { exportPayoutsCsv, PAYOUT_CSV_FAILED_LINE, PAYOUT_CSV_HEADER } from "@/lib/payouts/export-payouts-csv";
import { DEFAULT_PAYOUT_FILTER } from "@/lib/payouts/payout-filter";

import { createPayout } from "../../support/factories";
import { dashboardUsers, signInAs } from "../../support/sessions";

vi.mock("next-auth", async (importOriginal) => ({ ...(await importOriginal<typeof import("next-auth")>()), getServerSession: vi.fn() }));

const ORIGIN = "http://localhost";
const users = dashboardUsers("edges");

type TErrorBody = { error: { code: string; message: string; details?: { issues?: { path: string; message: string }[] } } };

async function errorOf(response: Response): Promise<{ status: number } & TErrorBody["error"]> {
  const body = (await response.json()) as TErrorBody;
  return { status: response.status, ...body.error };
}

/**
 * A request body of `totalBytes` made on demand, 64 KB a pull, counting what was pulled: a
 * 50 MB body that is never allocated, and a measure of how much of it the server read.
 */
function lazyBody(totalBytes: number) {
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  const counter = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (counter.pulled >= totalBytes) return controller.close();
        const next = chunk.subarray(0, Math.min(chunk.byteLength, totalBytes - counter.pulled));
        counter.pulled += next.byteLength;
        controller.enqueue(next);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, counter };
}

function authRequest(path: string, init: { headers?: Record<string, string>; body: BodyInit | ReadableStream<Uint8Array> }) {
  return new NextRequest(`${ORIGIN}/api/auth/${path}`, {
    method: "POST",
    headers: { origin: ORIGIN, ...init.headers },
    body: init.body,
    duplex: "half",
  } as ConstructorParameters<typeof NextRequest>[1]);
}

const authContext = (path: string) => ({ params: Promise.resolve({ nextauth: path.split("/") }) });

describe("next-auth's endpoints read at most 16 KB, and only forms or JSON", () => {
  it("answers 413 to a 50 MB sign-in body, after reading little more than the limit", async () => {
    const { stream, counter } = lazyBody(50 * 1024 * 1024);
    const started = performance.now();
    const response = await authPost(
      authRequest("callback/credentials", { headers: { "content-type": "application/x-www-form-urlencoded" }, body: stream }),
      authContext("callback/credentials"),
    );
    const error = await errorOf(response);
    expect(error).toMatchObject({ status: 413, code: "payload_too_large" });
    expect(error.message).toBe("The request body is too large: this endpoint accepts at most 16384 bytes (16 KB).");
    expect(counter.pulled, "stopped reading once past the limit").toBeLessThanOrEqual(MAX_AUTH_BODY_BYTES + 2 * 64 * 1024);
    expect(performance.now() - started, "quickly").toBeLessThan(2_000);
  });

  it("answers 413 to a declared Content-Length over the limit without reading the body", async () => {
    const { stream, counter } = lazyBody(50 * 1024 * 1024);
    const response = await authPost(
      authRequest("callback/credentials", {
        headers: { "content-type": "application/x-www-form-urlencoded", "content-length": String(50 * 1024 * 1024) },
        body: stream,
      }),
      authContext("callback/credentials"),
    );
    expect(await errorOf(response)).toMatchObject({ status: 413, code: "payload_too_large" });
    expect(counter.pulled).toBeLessThanOrEqual(64 * 1024);
  });

  it("answers 415 to another content type or none, before reading the body", async () => {
    const cases: Record<string, string>[] = [{ "content-type": "text/plain" }, { "content-type": "multipart/form-data; boundary=x" }, {}];
    for (const headers of cases) {
      const { stream, counter } = lazyBody(50 * 1024 * 1024);
      const response = await authPost(authRequest("signout", { headers, body: stream }), authContext("signout"));
      const error = await errorOf(response);
      expect(error, JSON.stringify(headers)).toMatchObject({ status: 415, code: "unsupported_media_type" });
      expect(error.message).toMatch(/send application\/x-www-form-urlencoded or application\/json\.$/);
      expect(counter.pulled, JSON.stringify(headers)).toBeLessThanOrEqual(64 * 1024);
    }
  });

  it("hands a body within the limit on unchanged, as a NextRequest", async () => {
    const seen: { body: string; type: string | null; length: string | null; path: string }[] = [];
    const handler = limitBody(
      async (request: NextRequest) => {
        seen.push({
          body: await request.text(),
          type: request.headers.get("content-type"),
          length: request.headers.get("content-length"),
          path: request.nextUrl.pathname,
        });
        return new Response("ok");
      },
      { limitBytes: MAX_AUTH_BODY_BYTES, contentTypes: ["application/x-www-form-urlencoded"] },
    );
    const form = "csrfToken=abc&email=a%40example.test&password=p%C3%A4ss";
    const response = await handler(
      authRequest("callback/credentials", {
        headers: { "content-type": "application/x-www-form-urlencoded;charset=UTF-8" },
        body: new Blob([form]).stream(),
      }),
      undefined,
    );
    expect(response.status).toBe(200);
    expect(seen).toEqual([
      {
        body: form,
        type: "application/x-www-form-urlencoded;charset=UTF-8",
        length: String(form.length),
        path: "/api/auth/callback/credentials",
      },
    ]);
  });

  it("refuses a body too large in the same words on next-auth, the webhooks and the admin routes", async () => {
    signInAs(users.admin);
    const tooLarge = (limit: number) => "x".repeat(limit + 1);
    const answers = [
      await authPost(
        authRequest("signout", { headers: { "content-type": "application/json" }, body: tooLarge(16 * 1024) }),
        authContext("signout"),
      ),
      await bookingWebhook(
        new Request(`${ORIGIN}/api/webhooks/booking`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: tooLarge(256 * 1024),
        }),
        undefined,
      ),
      await createUser(
        new Request(`${ORIGIN}/api/admin/users`, {
          method: "POST",
          headers: { origin: ORIGIN, "content-type": "application/json" },
          body: tooLarge(64 * 1024),
        }),
        undefined,
      ),
    ];
    const errors = await Promise.all(answers.map(errorOf));
    expect(errors.map((e) => [e.status, e.code])).toEqual([
      [413, "payload_too_large"],
      [413, "payload_too_large"],
      [413, "payload_too_large"],
    ]);
    expect(errors.map((e) => e.message)).toEqual([
      "The request body is too large: this endpoint accepts at most 16384 bytes (16 KB).",
      "The request body is too large: this endpoint accepts at most 262144 bytes (256 KB).",
      "The request body is too large: this endpoint accepts at most 65536 bytes (64 KB).",
    ]);
  });
});

describe("text PostgreSQL cannot store is a 400 naming the parameter", () => {
  type THandler = (request: Request, context: unknown) => Promise<Response>;
  const HANDLERS: Record<string, THandler> = {
    "/api/admin/payouts": payoutsList as THandler,
    "/api/admin/payouts/export": exportCsv as THandler,
    "/api/admin/providers": providersList as THandler,
    "/api/admin/webhook-deliveries": deliveriesList as THandler,
    "/api/admin/audit": auditList as THandler,
    "/api/admin/alerts": alertsList as THandler,
    "/api/admin/disputes": disputesList as THandler,
  };
  const PARAMETERS: [string, string][] = [
    ["/api/admin/payouts", "q"],
    ["/api/admin/payouts", "provider"],
    ["/api/admin/payouts/export", "q"],
    ["/api/admin/payouts/export", "provider"],
    ["/api/admin/providers", "q"],
    ["/api/admin/webhook-deliveries", "type"],
    ["/api/admin/webhook-deliveries", "booking"],
    ["/api/admin/audit", "action"],
    ["/api/admin/audit", "entityId"],
    ["/api/admin/alerts", "state"],
    ["/api/admin/disputes", "status"],
  ];

  it("covers every list route", () => {
    expect(new Set(PARAMETERS.map(([route]) => route))).toEqual(new Set(Object.keys(HANDLERS)));
  });

  it.each(PARAMETERS)("%s?%s=…%00… answers 400 naming the parameter", async (route, parameter) => {
    signInAs(users.viewer);
    const response = await HANDLERS[route]!(new Request(`${ORIGIN}${route}?${parameter}=ab%00cd`), { params: Promise.resolve({}) });
    const error = await errorOf(response);
    expect(error).toMatchObject({ status: 400, code: "validation_failed" });
    expect(error.message).toContain(`${parameter}: `);
    expect(error.details?.issues?.map((i) => i.path)).toEqual([parameter]);
    expect(response.headers.get("content-type")).toContain("application/json");
  });

  it("a reason with a NUL or an unpaired surrogate is a 400 naming `reason`, and nothing is written", async () => {
    signInAs(users.operator);
    const payout = await createPayout();
    const audit = await db.auditLog.count();
    for (const [reason, problem] of [
      ["held\u0000for review", "NUL"],
      ["held \ud800 for review", "unpaired UTF-16 surrogate"],
    ] as const) {
      const response = await payoutAction(
        new Request(`${ORIGIN}/api/admin/payouts/${payout.id}/actions`, {
          method: "POST",
          headers: { origin: ORIGIN, "content-type": "application/json" },
          body: JSON.stringify({ action: "hold", reason, expectedVersion: payout.version }),
        }),
        { params: Promise.resolve({ id: payout.id }) },
      );
      const error = await errorOf(response);
      expect(error).toMatchObject({ status: 400, code: "validation_failed" });
      expect(error.message).toContain("reason: ");
      expect(error.message).toContain(problem);
    }
    expect(await db.auditLog.count()).toBe(audit);
    expect((await db.payout.findUniqueOrThrow({ where: { id: payout.id } })).status).toBe("scheduled");
  });
});

describe("an export that fails is never mistaken for a complete one", () => {
  let locker: pg.Client;
  let server: Server | null = null;

  beforeAll(async () => {
    for (let i = 0; i < 5; i++) await createPayout();
    locker = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await locker.connect();
  });

  afterEach(async () => {
    await locker.query("ROLLBACK").catch(() => undefined);
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = null;
  });

  afterAll(async () => {
    await locker.end();
  });

  /** Holds an exclusive lock on "Payout", so the export's next query waits for it. */
  async function lockPayouts(): Promise<void> {
    await locker.query("BEGIN");
    await locker.query('LOCK TABLE "Payout" IN ACCESS EXCLUSIVE MODE');
  }

  /** Ends the app's connection that waits on the lock, as a failover or an administrator would. */
  async function terminateWaitingQuery(): Promise<void> {
    for (let tries = 0; tries < 200; tries++) {
      const { rows } = await locker.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`,
      );
      if (rows.length > 0) {
        for (const { pid } of rows) await locker.query("SELECT pg_terminate_backend($1)", [pid]);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error("the export never waited on the lock");
  }

  it("a query that fails before the first byte answers 500 with JSON, not a CSV header", async () => {
    signInAs(users.viewer);
    await lockPayouts();
    const answer = exportCsv(new Request(`${ORIGIN}/api/admin/payouts/export`), { params: Promise.resolve({}) });
    await terminateWaitingQuery();
    await locker.query("ROLLBACK");
    const response = await answer;
    expect(response.status).toBe(500);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(((await response.json()) as TErrorBody).error.code).toBe("internal_error");
  });

  it("a query that fails part-way breaks the download off after a failure line: fetch reports an error, not a clean end", async () => {
    const csv = await exportPayoutsCsv(db, DEFAULT_PAYOUT_FILTER, { batchSize: 2 });
    await lockPayouts();
    // Served as Next serves a route handler's streamed body (next/dist/server/pipe-readable).
    const piped: Promise<unknown>[] = [];
    server = createServer((_request, response) => {
      response.statusCode = 200;
      response.setHeader("content-type", "text/csv; charset=utf-8");
      piped.push(pipeToNodeResponse(csv, response).catch((error: unknown) => error));
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;

    const response = await fetch(`http://127.0.0.1:${port}/export.csv`);
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let received = "";
    const first = await reader.read();
    received += decoder.decode(first.value);
    expect(received.startsWith(PAYOUT_CSV_HEADER)).toBe(true);

    await terminateWaitingQuery();
    await locker.query("ROLLBACK");
    let ending: unknown = null;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        received += decoder.decode(value, { stream: true });
      }
    } catch (error) {
      ending = error;
    }
    expect(ending, "the body ends in an error, not a clean end").toBeInstanceOf(Error);
    expect(received.split("\r\n").filter(Boolean)).toHaveLength(1 + 2 + 1);
    expect(received.endsWith(PAYOUT_CSV_FAILED_LINE)).toBe(true);
    expect(await Promise.all(piped)).toEqual([expect.any(Error)]);
  });

  it("an export that does not fail ends cleanly, without the failure line", async () => {
    const csv = await exportPayoutsCsv(db, DEFAULT_PAYOUT_FILTER, { batchSize: 2 });
    const text = await new Response(csv).text();
    expect(text.split("\r\n").filter(Boolean)).toHaveLength(1 + (await db.payout.count()));
    expect(text).not.toContain("EXPORT FAILED");
  });
});
