// The Providers list's filter: parsed from the page's URL and from GET /api/admin/providers.
import { z } from "zod";

import { storableText } from "@/lib/http/storable-text";

export const PROVIDER_PAGE_SIZE = 25;

export const PROVIDER_READINESS_FILTERS = ["all", "ready", "not_ready"] as const;

export const ZProviderFilter = z
  .object({
    /** Part of the provider's name, or its Stripe account id or external id. */
    q: storableText().trim().max(100).optional(),
    /** "" (an "Any" option left as it is) means all. */
    readiness: z.preprocess((v) => (v === "" ? undefined : v), z.enum(PROVIDER_READINESS_FILTERS).default("all")),
    page: z.coerce.number().int().min(1).max(100_000).default(1),
  })
  .strict();

export type TProviderFilter = z.infer<typeof ZProviderFilter>;

export const DEFAULT_PROVIDER_FILTER: TProviderFilter = { readiness: "all", page: 1 };
