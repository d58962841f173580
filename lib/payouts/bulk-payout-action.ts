import "server-only";

import { z } from "zod";

import type { PayoutStatus } from "@/generated/prisma/enums";
import { ZReason } from "@/lib/audit/reason";
import type { TServiceContext } from "@/lib/context";
import { AppError } from "@/lib/errors";

import { holdPayout } from "./hold-payout";
import { releasePayout } from "./release-payout";

// Bulk hold / release from the payouts list. Each payout goes through the same domain
// service as a single action, in its own transaction (lock, state machine, audit entry
// with the acting user and the reason, outbox event), so one refused row (a transferred
// payout cannot be held) does not undo the others; the answer reports every row.

export const MAX_BULK_PAYOUTS = 100;

export const BULK_PAYOUT_ACTIONS = ["hold", "release"] as const;
export type TBulkPayoutAction = (typeof BULK_PAYOUT_ACTIONS)[number];

export const ZBulkPayoutAction = z
  .object({
    action: z.enum(BULK_PAYOUT_ACTIONS),
    payoutIds: z
      .array(z.uuid())
      .min(1, "select at least one payout")
      .max(MAX_BULK_PAYOUTS, `at most ${MAX_BULK_PAYOUTS} payouts at once`)
      .refine((ids) => new Set(ids.map((id) => id.toLowerCase())).size === ids.length, "must not repeat a payout"),
    reason: ZReason,
  })
  .strict();
export type TBulkPayoutActionInput = z.infer<typeof ZBulkPayoutAction>;

export type TBulkRowResult = {
  payoutId: string;
  ok: boolean;
  /** The payout's status after the action (when it was applied). */
  status?: PayoutStatus;
  /** Why the row was refused (e.g. "Cannot hold a payout that is transferred."). */
  error?: string;
  code?: string;
};

export type TBulkPayoutResult = {
  action: TBulkPayoutAction;
  results: TBulkRowResult[];
  succeeded: number;
  failed: number;
  /** Outbox events the applied actions recorded, to publish after the response. */
  eventIds: string[];
};

const SERVICES = { hold: holdPayout, release: releasePayout } as const;

/** Rows processed at once: each is a short transaction; a few in parallel keeps 100 rows quick without hogging the pool. */
const CONCURRENCY = 4;

async function applyOne(ctx: TServiceContext, action: TBulkPayoutAction, payoutId: string, reason: string) {
  try {
    const { payout, transferRequested } = await SERVICES[action](ctx, { payoutId, reason });
    const eventIds = [`admin:${payout.id}:v${payout.version}`, ...(transferRequested ? [`transfer:${payout.id}:v${payout.version}`] : [])];
    return { row: { payoutId, ok: true, status: payout.status } satisfies TBulkRowResult, eventIds };
  } catch (error) {
    if (error instanceof AppError)
      return { row: { payoutId, ok: false, error: error.message, code: error.code } satisfies TBulkRowResult, eventIds: [] };
    console.error(`Bulk ${action} failed for payout ${payoutId}`, error);
    return {
      row: { payoutId, ok: false, error: "Something went wrong with this payout.", code: "internal_error" } satisfies TBulkRowResult,
      eventIds: [],
    };
  }
}

/** Applies `action` to every payout, each in its own transaction; results in the input's order. */
export async function bulkPayoutAction(ctx: TServiceContext, input: TBulkPayoutActionInput): Promise<TBulkPayoutResult> {
  const outcomes: Awaited<ReturnType<typeof applyOne>>[] = new Array(input.payoutIds.length);
  let next = 0;
  async function worker() {
    while (next < input.payoutIds.length) {
      const index = next++;
      outcomes[index] = await applyOne(ctx, input.action, input.payoutIds[index] as string, input.reason);
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, input.payoutIds.length) }, worker));
  const results = outcomes.map((o) => o.row);
  const succeeded = results.filter((r) => r.ok).length;
  return { action: input.action, results, succeeded, failed: results.length - succeeded, eventIds: outcomes.flatMap((o) => o.eventIds) };
}
