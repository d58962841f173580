// The Disputes list's filter: parsed from the page's URL and from GET /api/admin/disputes.
// No server imports, so the filter form can share the type.
import { z } from "zod";

export const DISPUTE_PAGE_SIZE = 25;

export const DISPUTE_STATUS_FILTERS = ["all", "open", "resolved"] as const;

export const ZDisputeFilter = z
  .object({
    status: z.enum(DISPUTE_STATUS_FILTERS).default("all"),
    page: z.coerce.number().int().min(1).max(100_000).default(1),
  })
  .strict();

export type TDisputeFilter = z.infer<typeof ZDisputeFilter>;

export const DEFAULT_DISPUTE_FILTER: TDisputeFilter = { status: "all", page: 1 };
