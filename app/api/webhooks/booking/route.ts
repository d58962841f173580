import { NextResponse } from "next/server";

import { withErrors } from "@/lib/api/respond";
import { receiveBookingWebhook } from "@/lib/ingest/receive-booking-webhook";

export const dynamic = "force-dynamic";

/**
 * POST /api/webhooks/booking: the booking platform's signed events (contract in
 * docs/webhooks.md). Verify, store, apply, enqueue, answer; every step is in lib/webhooks.
 */
export const POST = withErrors(async (request) => NextResponse.json(await receiveBookingWebhook(request)));
