import { adminRoute, parsedOrThrow } from "@/lib/api/admin-route";
import { db } from "@/lib/db";
import { exportPayoutsCsv, payoutExportFileName } from "@/lib/payouts/export-payouts-csv";
import { parsePayoutFilter } from "@/lib/payouts/payout-filter";

export const dynamic = "force-dynamic";

/**
 * GET /api/admin/payouts/export?<filter>: every payout the filter matches (all pages) as a
 * streamed CSV download (any signed-in role). Same parameters as the list, without a page. The
 * filter is checked (400) and the first batch read (500) before the header is sent; a failure
 * after that breaks the download off (lib/payouts/export-payouts-csv.ts).
 */
export const GET = adminRoute(
  { role: "viewer", query: (search) => parsedOrThrow(parsePayoutFilter(search)) },
  async ({ query }) =>
    new Response(await exportPayoutsCsv(db, query), {
      headers: {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": `attachment; filename="${payoutExportFileName(new Date())}"`,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
      },
    }),
);
