// GET /api/health answers load balancers and uptime checks without a session: 200 when the
// database answers, every migration file is applied and the workflow engine (Inngest; here the
// local stand-in) answers; 503 naming the failing check otherwise; never cached, no secrets.
import { createServer } from "node:net";

import { afterAll, describe, expect, it, vi } from "vitest";

import { db } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import type { THealthReport } from "@/lib/health/check-health";

type TRoute = typeof import("@/app/api/health/route");

async function health(route?: TRoute): Promise<{ status: number; cacheControl: string | null; body: THealthReport; raw: string }> {
  const { GET } = route ?? (await import("@/app/api/health/route"));
  const response = await GET();
  const raw = await response.text();
  return { status: response.status, cacheControl: response.headers.get("cache-control"), body: JSON.parse(raw) as THealthReport, raw };
}

/** A port nothing listens on: bound once to learn a free number, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const savedBaseUrl = process.env.INNGEST_BASE_URL;
afterAll(() => {
  process.env.INNGEST_BASE_URL = savedBaseUrl;
  resetEnvForTests();
});

describe("GET /api/health", () => {
  it("is 200 with a small JSON body when everything is healthy, not cached, with no secrets", async () => {
    const { status, cacheControl, body, raw } = await health();

    expect(status).toBe(200);
    expect(cacheControl).toBe("no-store");
    expect(body).toEqual({ status: "ok", failing: [], checks: { database: "ok", migrations: "ok", workflowEngine: "ok" } });
    expect(raw.length).toBeLessThan(200);
    for (const secretish of [process.env.DATABASE_URL!, "postgres", "127.0.0.1", "whsec_", "sk_test", "signkey"]) {
      expect(raw).not.toContain(secretish);
    }
  });

  it("is 503 naming the workflow engine when Inngest does not answer", async () => {
    globalThis.inngestReceiver.setDown(true);
    try {
      const { status, cacheControl, body } = await health();
      expect(status).toBe(503);
      expect(cacheControl).toBe("no-store");
      expect(body.status).toBe("unhealthy");
      expect(body.failing).toEqual(["workflowEngine"]);
      expect(body.checks).toEqual({ database: "ok", migrations: "ok", workflowEngine: "unreachable" });
    } finally {
      globalThis.inngestReceiver.setDown(false);
    }
    expect((await health()).status).toBe(200);
  });

  it("is 503 naming the workflow engine when its configured URL is a closed port", async () => {
    process.env.INNGEST_BASE_URL = `http://127.0.0.1:${await closedPort()}`;
    resetEnvForTests();
    vi.resetModules();
    const route = await import("@/app/api/health/route");
    try {
      const { status, body, raw } = await health(route);
      expect(status).toBe(503);
      expect(body.failing).toEqual(["workflowEngine"]);
      expect(body.checks.workflowEngine).toBe("unreachable");
      expect(raw).not.toContain("127.0.0.1");
    } finally {
      process.env.INNGEST_BASE_URL = savedBaseUrl;
      resetEnvForTests();
      vi.resetModules();
    }
  });

  it("is 503 naming the migrations when a migration file is not applied, and 200 again once it is", async () => {
    const [latest] = await db.$queryRaw<{ id: string; migration_name: string }[]>`
      SELECT id, migration_name FROM "_prisma_migrations" ORDER BY migration_name DESC LIMIT 1`;
    expect(latest).toBeDefined();
    // The row goes, as on a database the newest deploy's migration never ran on.
    await db.$executeRaw`UPDATE "_prisma_migrations" SET finished_at = NULL, rolled_back_at = now() WHERE id = ${latest!.id}`;
    try {
      const { status, body } = await health();
      expect(status).toBe(503);
      expect(body.failing).toEqual(["migrations"]);
      expect(body.checks.migrations).toBe(`1 pending: ${latest!.migration_name}`);
      expect(body.checks.database).toBe("ok");
    } finally {
      await db.$executeRaw`UPDATE "_prisma_migrations" SET finished_at = now(), rolled_back_at = NULL WHERE id = ${latest!.id}`;
    }
    expect((await health()).status).toBe(200);
  });

  it("is 503 naming a migration that failed half-way", async () => {
    const [latest] = await db.$queryRaw<{ id: string; migration_name: string }[]>`
      SELECT id, migration_name FROM "_prisma_migrations" ORDER BY migration_name DESC LIMIT 1`;
    await db.$executeRaw`UPDATE "_prisma_migrations" SET finished_at = NULL WHERE id = ${latest!.id}`;
    try {
      const { status, body } = await health();
      expect(status).toBe(503);
      expect(body.failing).toEqual(["migrations"]);
      expect(body.checks.migrations).toBe(`failed: ${latest!.migration_name}`);
    } finally {
      await db.$executeRaw`UPDATE "_prisma_migrations" SET finished_at = now() WHERE id = ${latest!.id}`;
    }
  });

  it("is unhealthy naming the database when its sessions are not in UTC (Prisma's adapter would shift every date)", async () => {
    const { checkHealth } = await import("@/lib/health/check-health");
    const { createPrismaClient } = await import("@/lib/db");
    const url = new URL(process.env.DATABASE_URL ?? "");
    for (const [timeZone, healthy] of [
      ["America/New_York", false],
      ["Asia/Kolkata", false],
      ["Europe/London", false], // no offset in winter, one in summer
      ["Etc/UTC", true],
      ["UTC", true],
      ["GMT", true],
    ] as const) {
      url.searchParams.set("options", `-c TimeZone=${timeZone}`);
      const client = createPrismaClient(url.toString());
      try {
        const report = await checkHealth({ db: client });
        if (healthy) {
          expect(report.checks.database).toBe("ok");
          continue;
        }
        expect(report.failing).toContain("database");
        expect(report.checks.database).toMatch(new RegExp(`session TimeZone is ${timeZone}, not UTC.*SET TimeZone = 'UTC'`));
        // The migrations are still checked: the database answers.
        expect(report.checks.migrations).toBe("ok");
      } finally {
        await client.$disconnect();
      }
    }
  });

  it("is 503 naming the database (and not checking migrations) when PostgreSQL does not answer", async () => {
    const { checkHealth } = await import("@/lib/health/check-health");
    const { createPrismaClient } = await import("@/lib/db");
    const unreachable = createPrismaClient(`postgresql://postgres@127.0.0.1:${await closedPort()}/payouts`);
    try {
      const report = await checkHealth({ db: unreachable });
      expect(report.status).toBe("unhealthy");
      expect(report.failing).toEqual(["database", "migrations"]);
      expect(report.checks).toEqual({ database: "unreachable", migrations: "not checked: database unreachable", workflowEngine: "ok" });
    } finally {
      await unreachable.$disconnect();
    }
  });
});
