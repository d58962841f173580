import { NextResponse } from "next/server";

import { checkHealth } from "@/lib/health/check-health";

export const dynamic = "force-dynamic";

/**
 * For load balancers and uptime checks; no session needed, no secrets in the answer: 200 and
 * `{"status":"ok",…}` when the database, the migrations and the workflow engine are fine, else
 * 503 naming the failing checks.
 */
export async function GET(): Promise<Response> {
  const report = await checkHealth();
  return NextResponse.json(report, {
    status: report.status === "ok" ? 200 : 503,
    headers: { "Cache-Control": "no-store" },
  });
}
