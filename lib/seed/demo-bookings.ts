// The demo bookings: 2,000 over the last 30 days, in the providers' daytime, some cancelled before
// completion; then the histories (scenarios) their payouts will have, and their ids in
// completion order.
import {
  bookingExternalId,
  clamp,
  DAY,
  DEMO_BOOKING_COUNT,
  DEMO_CANCELLED_BEFORE_COMPLETION,
  DEMO_WINDOW_DAYS,
  HOUR,
  MINUTE,
  PAYOUT_DELAY_HOURS,
  type TBookingPlan,
  type TDemoContext,
  type TProviderPlan,
  type TScenario,
} from "./demo-context";

export function planBookings(ctx: TDemoContext): void {
  const { random } = ctx;
  const windowStart = ctx.nowMs - DEMO_WINDOW_DAYS * DAY;
  const activeFrom = (p: TProviderPlan) => Math.max(windowStart, p.createdAt.getTime() + 12 * HOUR);
  const weights = ctx.providers.map((p) => [p, (p.weight * (ctx.nowMs - activeFrom(p))) / (DEMO_WINDOW_DAYS * DAY)] as const);
  for (let i = 0; i < DEMO_BOOKING_COUNT; i++) {
    const provider = random.weighted(weights);
    const currency = provider.region.currency;
    const raw = provider.baseShare * random.float(0.7, 1.6);
    const share = currency === "JPY" ? clamp(Math.round(raw / 100) * 100, 3_000, 20_000) : clamp(Math.round(raw / 5) * 5, 2_000, 30_000);
    ctx.bookings.push({
      id: "",
      externalId: "",
      provider,
      currency,
      share,
      at: new Date(sampleTime(ctx, activeFrom(provider), provider.region.utcOffsetHours, windowStart)),
      completed: true,
      scenario: "default",
      payoutId: null,
    });
  }
  for (const booking of random.shuffle(ctx.bookings).slice(0, DEMO_CANCELLED_BEFORE_COMPLETION)) {
    booking.completed = false;
  }
}

/** A completion time: daytime in the provider's region, busier at weekends, growing over the month. */
function sampleTime(ctx: TDemoContext, from: number, utcOffsetHours: number, windowStart: number): number {
  const to = ctx.nowMs - 3 * MINUTE;
  for (;;) {
    const t = ctx.random.float(from, to);
    const local = new Date(t + utcOffsetHours * HOUR);
    const hour = local.getUTCHours() + local.getUTCMinutes() / 60;
    const day = local.getUTCDay();
    const hourWeight = hour < 7 || hour >= 22 ? 0 : hour < 9 ? 0.45 : hour < 12 ? 1 : hour < 14 ? 0.75 : hour < 19 ? 1 : 0.55;
    const dayWeight = day === 0 || day === 6 ? 1.35 : day === 5 ? 1.15 : 1;
    const trend = 0.85 + (0.3 * (t - windowStart)) / (DEMO_WINDOW_DAYS * DAY);
    if (ctx.random.next() * 1.56 < hourWeight * dayWeight * trend) return Math.round(t);
  }
}

export function assignScenarios(ctx: TDemoContext): void {
  const { random } = ctx;
  const ageHours = (b: TBookingPlan) => (ctx.nowMs - b.at.getTime()) / HOUR;
  const take = (scenario: TScenario, count: number, minAgeHours: number, maxAgeHours: number): TBookingPlan[] => {
    const candidates = ctx.bookings.filter(
      (b) =>
        b.completed && b.provider.notReady === null && b.scenario === "default" && ageHours(b) >= minAgeHours && ageHours(b) <= maxAgeHours,
    );
    if (candidates.length < count) throw new Error(`seed: not enough bookings for scenario ${scenario}`);
    const chosen = random.shuffle(candidates).slice(0, count);
    for (const b of chosen) b.scenario = scenario;
    return chosen;
  };
  const dueMinutesAgo = (minutes: number) => new Date(ctx.nowMs - PAYOUT_DELAY_HOURS * HOUR - minutes * MINUTE);

  // Transfers in flight: three just started, one on its second attempt, one stuck for two hours.
  for (const b of take("processing", 3, 50, 120)) b.at = dueMinutesAgo(random.float(1, 6));
  for (const b of take("processing_retrying", 1, 50, 120)) b.at = dueMinutesAgo(random.float(4.5, 6));
  for (const b of take("processing_stuck", 1, 50, 120)) b.at = dueMinutesAgo(120 + random.float(2, 5));

  // A Stripe incident four days ago failed three payouts that came due within minutes of each other.
  const outage = Math.floor((ctx.nowMs - 4 * DAY) / HOUR) * HOUR + 5 * MINUTE;
  for (const b of take("failed_outage", 3, 72, 160)) b.at = new Date(outage - PAYOUT_DELAY_HOURS * HOUR + random.int(0, 12) * MINUTE);
  take("failed", 2, 72, 300);
  take("failed_permanent", 1, 60, 200);
  take("failed_retried", 2, 150, 600);

  take("admin_hold", 3, 10, 140);
  take("admin_hold_released", 3, 120, 600);
  take("admin_cancel", 1, 80, 400);

  take("dispute_open", 6, 6, 360);
  take("dispute_provider_won", 4, 150, 700);
  take("dispute_partial", 4, 150, 700);
  take("dispute_customer_won", 3, 150, 700);
  take("dispute_tip_refund", 1, 150, 700);

  take("post_dispute_open", 2, 300, 700);
  take("post_provider_won", 2, 400, 715);
  take("post_reversed", 3, 400, 715);
  take("post_partially_reversed", 4, 400, 715);
  take("post_reversal_failed", 1, 400, 715);

  take("late_cancel", 5, 30, 700);
  take("transfer_retry", 15, 50, 715);

  // The provider whose reversal failed owes it: their payout that came due a few hours ago (after
  // the debt) was netted against it at its claim (lib/payouts/recover-debts.ts).
  const owing = ctx.bookings.find((b) => b.scenario === "post_reversal_failed")!;
  const next = ctx.bookings.filter(
    (b) =>
      b.completed &&
      b.scenario === "default" &&
      b.provider === owing.provider &&
      b.currency === owing.currency &&
      b.provider.notReady === null,
  );
  if (next.length === 0) throw new Error("seed: no booking to recover the debt from");
  const recovering = next.reduce((small, b) => (b.share < small.share ? b : small));
  recovering.scenario = "debt_recovered";
  recovering.at = dueMinutesAgo(random.float(60, 600));
}

/** Booking ids follow completion order, as the platform's would. */
export function numberBookings(ctx: TDemoContext): void {
  ctx.bookings.sort((a, b) => a.at.getTime() - b.at.getTime());
  for (const [i, b] of ctx.bookings.entries()) {
    b.externalId = bookingExternalId(i + 1);
    b.id = ctx.ids.uuid();
    b.payoutId = b.completed ? ctx.ids.uuid() : null;
  }
}
