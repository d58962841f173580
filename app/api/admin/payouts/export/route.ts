import { withErrors } from "@/lib/api/respond";
import { requireApiUser } from "@/lib/auth/session";
import { db } from "@/lib/db";
import { exportPayoutsCsv, payoutExportFileName } from "@/lib/payouts/export-payouts-csv";
import { parsePayoutFilter } from "@/lib/payouts/payout-filter";

export const dynamic = "force-dynamic";

/**
 * GET /api/admin/payouts/export?<filter>: every payout the filter matches (all pages) as a
 * streamed CSV download (any signed-in role). Same parameters as the list, without a page.
 */
export const GET = withErrors(async (request) => {
  await requireApiUser("viewer");
  const parsed = parsePayoutFilter(new URL(request.url).searchParams);
  if (!parsed.success) throw parsed.error;
  return new Response(exportPayoutsCsv(db, parsed.data), {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${payoutExportFileName(new Date())}"`,
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    },
  });
});
