// What the transfer step does before its record, and its result made comparable: shared by the
// tests that record the same outcomes alone and in a batch (test/integration/engine/review-*).
import { expect } from "vitest";

import { db } from "@/lib/db";
import { readAttemptFacts } from "@/lib/payouts/attempt-facts";
import { replaceStaleLegs } from "@/lib/payouts/replace-stale-legs";
import { claimTransfer } from "@/lib/payouts/transfer-claim";
import { executeTransfer } from "@/lib/payouts/transfer-execute";
import { prepareFunding } from "@/lib/payouts/transfer-funding";
import type { TTransferResult } from "@/lib/payouts/transfer-types";

import type { TEngineHarness } from "./engine";

/**
 * What transferPayout does before its record, for a payout whose account is ready: the funding
 * learnt, no stale legs, the claim, then Stripe. Returns the run's context, its claim and the outcome.
 */
export async function claimAndExecuteTransfer(h: TEngineHarness, payoutId: string, runId: string) {
  const ctx = { ...h.ctx(), runId };
  const facts = await readAttemptFacts(db, payoutId);
  expect(await prepareFunding(ctx, h.stripe, { payoutId }, facts)).toBeNull();
  expect(await replaceStaleLegs(ctx, h.stripe, { payoutId }, facts)).toBeNull();
  const claimed = await claimTransfer(ctx, { payoutId });
  if (claimed.kind !== "claimed") throw new Error(`not claimed: ${JSON.stringify(claimed)}`);
  const outcome = await executeTransfer(ctx, h.stripe, claimed.claim);
  return { ctx, claim: claimed.claim, outcome };
}

/** A transfer result with its Stripe transfer id and times replaced, its texts passed through `norm`. */
export function normTransferResult(result: TTransferResult, norm: (text: string) => string | null): Record<string, unknown> {
  const r = { ...result } as Record<string, unknown>;
  if (typeof r.stripeTransferId === "string") r.stripeTransferId = "<tr>";
  if (typeof r.until === "string") r.until = "<time>";
  for (const k of ["error", "detail"]) if (typeof r[k] === "string") r[k] = norm(r[k] as string);
  return r;
}
