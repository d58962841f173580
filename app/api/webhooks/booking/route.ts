import { after, NextResponse } from "next/server";

import { withErrors } from "@/lib/api/respond";
import { receiveBookingWebhook } from "@/lib/ingest/receive-booking-webhook";

export const dynamic = "force-dynamic";

/**
 * POST /api/webhooks/booking: the booking platform's signed events (contract in
 * docs/webhooks.md). Verify and store, answer, then apply in the booking's lane once the
 * answer is sent (`after()`); every step is in lib/ingest.
 */
export const POST = withErrors(async (request) => {
  const { answer, apply } = await receiveBookingWebhook(request);
  if (apply) after(apply);
  return NextResponse.json(answer);
});
