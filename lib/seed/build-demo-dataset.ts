// Builds the demo data set in memory (no I/O): providers, 30 days of bookings, and for each
// completed booking a payout whose history is written step by step with the engine's own rules
// (payout-story.ts). Deterministic for a given seed; only the clock (`now`) moves the timestamps.
import { assignScenarios, numberBookings, planBookings } from "./demo-bookings";
import { createDemoContext, DEMO_SEED } from "./demo-context";
import type { TAdminRef, TDemoDataset } from "./demo-dataset-types";
import { writeDemoNotifications } from "./demo-notifications";
import { buildProviders } from "./demo-providers";
import { writeBooking } from "./demo-scenarios";
import { planTips } from "./demo-tips";

export {
  bookingExternalId,
  DEMO_BOOKING_COUNT,
  DEMO_CANCELLED_BEFORE_COMPLETION,
  DEMO_MARKER_PROVIDER_EXTERNAL_ID,
  DEMO_PROVIDER_COUNT,
  DEMO_REJECTED_TIPS,
  DEMO_SEED,
  DEMO_WINDOW_DAYS,
  providerExternalId,
} from "./demo-context";

export function buildDemoDataset(input: { now: Date; admin: TAdminRef; operator: TAdminRef; seed?: number }): TDemoDataset {
  const ctx = createDemoContext(input.now, input.admin, input.operator, input.seed ?? DEMO_SEED);
  buildProviders(ctx);
  planBookings(ctx);
  assignScenarios(ctx);
  numberBookings(ctx);
  planTips(ctx);
  for (const booking of ctx.bookings) writeBooking(ctx, booking);
  // The audit log in the order it would have been written, with ids like the others.
  ctx.out.audit.sort((a, b) => toTime(a.createdAt) - toTime(b.createdAt));
  for (const row of ctx.out.audit) row.id = ctx.ids.uuid();
  // Last, so the rows above keep their ids.
  writeDemoNotifications(ctx);
  return ctx.out;
}

function toTime(value: Date | string | undefined): number {
  return value === undefined ? 0 : new Date(value).getTime();
}
