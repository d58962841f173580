import { after, NextResponse } from "next/server";

import { withErrors } from "@/lib/api/respond";
import { receiveStripeWebhook } from "@/lib/ingest/receive-stripe-webhook";

export const dynamic = "force-dynamic";

/**
 * POST /api/webhooks/stripe: Stripe's signed events (disputes, refunds, transfer reversals,
 * connected-account updates). Verify the raw body (400 on a bad signature, nothing
 * written), store, answer, then apply in the event's lane once the answer is sent
 * (`after()`); every step is in lib/ingest and lib/stripe-webhooks.
 *
 * Status policy: 200 once the event is stored, even when applying it failed (the failure
 * is kept on the delivery and re-applied by the sweep and re-drive, so Stripe's retry
 * would only be a duplicate); 413 for a body over 512 KB; 500 only when the event could
 * not be stored (database down), so that Stripe retries it. Never 500 for bad input.
 */
export const POST = withErrors(async (request) => {
  const { answer, apply } = await receiveStripeWebhook(request);
  if (apply) after(apply);
  return NextResponse.json(answer);
});
