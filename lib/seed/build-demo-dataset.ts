// Builds the demo data set in memory (no I/O): providers, 30 days of bookings, and for each
// completed booking a payout whose history is written step by step (see payout-story.ts).
// Deterministic for a given seed; only the clock (`now`) moves the timestamps.
import type { Prisma } from "@/generated/prisma/client";
import type { DisputeOutcome, DisputeScope, DisputeStatus } from "@/generated/prisma/enums";
import { adminActorOf } from "@/lib/audit/admin-actor";
import { toAuditRow, type TActor } from "@/lib/audit/record-audit";
import { describeIneligibility } from "@/lib/payouts/eligibility";
import { DEFAULT_TIMING, payoutDueAt, tipWindowEndsAt } from "@/lib/payouts/timing";
import { MAX_TRANSFER_ATTEMPTS } from "@/lib/payouts/transfer-types";

import { emptyDataset, type TAdminRef, type TDemoDataset, type TPayoutRow } from "./demo-dataset-types";
import {
  CANCELLATION_REASONS,
  EMAIL_DOMAINS,
  LATE_CANCELLATION_REASONS,
  PLATFORM_DISPUTE_REASONS,
  REGIONS,
  STRIPE_DISPUTE_REASONS,
  type TRegion,
} from "./demo-names";
import {
  ACTORS,
  addMs,
  invalidDestinationError,
  PayoutStory,
  payoutSnapshot,
  reversalIdempotencyKey,
  STRIPE_ERRORS,
  type TAttemptOutcome,
  type TPendingTip,
  type TStripeError,
} from "./payout-story";
import { createIdFactory, createRandom, type TIdFactory, type TRandom } from "./prng";

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const DEMO_SEED = 20_261_124;
export const DEMO_PROVIDER_COUNT = 50;
export const DEMO_BOOKING_COUNT = 2_000;
export const DEMO_WINDOW_DAYS = 30;
/** Bookings cancelled before they were ever completed (no payout). */
export const DEMO_CANCELLED_BEFORE_COMPLETION = 40;
export const DEMO_REJECTED_TIPS = 8;
/** The design's defaults (48 h payout delay, 24 h tip window). */
const PAYOUT_DELAY_HOURS = DEFAULT_TIMING.payoutDelayHours;
const TIP_WINDOW_HOURS = DEFAULT_TIMING.tipWindowHours;
const TIP_RATE = 0.3;

export const providerExternalId = (n: number) => `prov_${String(n).padStart(4, "0")}`;
export const bookingExternalId = (n: number) => `bk_${String(n).padStart(6, "0")}`;
const tipExternalId = (n: number) => `tip_${String(n).padStart(6, "0")}`;
const disputeExternalId = (n: number) => `dsp_${String(n).padStart(5, "0")}`;

/** The first demo provider; its presence means the data set was already seeded. */
export const DEMO_MARKER_PROVIDER_EXTERNAL_ID = providerExternalId(1);

type TCurrency = TRegion["currency"];

type TProviderPlan = {
  id: string;
  externalId: string;
  name: string;
  region: TRegion;
  stripeAccountId: string | null;
  createdAt: Date;
  weight: number;
  baseShare: number;
  /** Payouts due on or after `since` are held until the Stripe account can receive them. */
  notReady: { since: Date; reason: string } | null;
};

type TScenario =
  | "default"
  | "transfer_retry"
  | "processing"
  | "processing_retrying"
  | "processing_stuck"
  | "failed"
  | "failed_outage"
  | "failed_permanent"
  | "failed_retried"
  | "admin_hold"
  | "admin_hold_released"
  | "admin_cancel"
  | "dispute_open"
  | "dispute_provider_won"
  | "dispute_partial"
  | "dispute_customer_won"
  | "dispute_tip_refund"
  | "post_dispute_open"
  | "post_provider_won"
  | "post_reversed"
  | "post_partially_reversed"
  | "post_reversal_failed"
  | "late_cancel";

type TBookingPlan = {
  id: string;
  externalId: string;
  provider: TProviderPlan;
  currency: TCurrency;
  share: number;
  /** completedAt, or cancelledAt for bookings cancelled before completion. */
  at: Date;
  completed: boolean;
  scenario: TScenario;
  /** The payout's id, known up front so earlier rows can refer to it. */
  payoutId: string | null;
};

type TBookingRow = {
  id: string;
  externalId: string;
  providerId: string;
  currency: string;
  providerShare: number;
  stripeChargeId: string;
  completedAt: Date | null;
  cancelledAt: Date | null;
  cancellationReason: string | null;
  createdAt: Date;
  updatedAt: Date;
};

type TDisputeRow = {
  id: string;
  externalId: string | null;
  stripeDisputeId: string | null;
  /** The disputed charge (Stripe disputes name one): the per-charge cap of refunds and chargebacks needs it. */
  stripeChargeId: string | null;
  bookingId: string;
  scope: DisputeScope;
  reason: string;
  status: DisputeStatus;
  outcome: DisputeOutcome | null;
  refundedAmount: number;
  currency: string;
  openedAt: Date;
  resolvedAt: Date | null;
  openedAfterTransfer: boolean;
  refundAppliedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
};

type TOpenDispute = { row: TDisputeRow; ref: string; actor: TActor };

const ADMIN_HOLD_REASONS = [
  "Customer emailed support saying the session was cut short; waiting for the platform's review",
  "Provider changed bank details twice this week; confirming the change with them by phone",
  "Tip is unusually large for this booking; checking the card for testing patterns",
  "Provider asked us to pause payouts while they move to a new business entity",
] as const;

const ADMIN_RELEASE_REASONS = [
  "Confirmed with the provider by phone; nothing wrong",
  "Platform review closed with no refund; releasing",
  "Card checks came back clean",
] as const;

class DemoBuilder {
  readonly out: TDemoDataset = emptyDataset();
  private readonly random: TRandom;
  private readonly ids: TIdFactory;
  private readonly nowMs: number;
  private readonly admin: TActor;
  private readonly operator: TActor;
  private providers: TProviderPlan[] = [];
  private bookings: TBookingPlan[] = [];
  /** Each booking's Stripe charge, for the disputes Stripe opens on it. */
  private readonly chargeOfBooking = new Map<string, string>();
  private readonly tipsByBooking = new Map<string, TPendingTip[]>();
  private disputeSeq = 0;

  constructor(
    private readonly now: Date,
    private readonly adminRef: TAdminRef,
    operatorRef: TAdminRef,
    seed: number,
  ) {
    this.random = createRandom(seed);
    // A separate stream for ids, so adding an id never reshuffles the story.
    this.ids = createIdFactory(createRandom(seed ^ 0x5bd1e995));
    this.nowMs = now.getTime();
    this.admin = adminActorOf(adminRef);
    this.operator = adminActorOf(operatorRef);
  }

  build(): TDemoDataset {
    this.buildProviders();
    this.planBookings();
    this.assignScenarios();
    this.numberBookings();
    this.planTips();
    for (const booking of this.bookings) this.writeBooking(booking);
    // The audit log in the order it would have been written, with ids like the others.
    this.out.audit.sort((a, b) => toTime(a.createdAt) - toTime(b.createdAt));
    for (const row of this.out.audit) row.id = this.ids.uuid();
    return this.out;
  }

  // ─────────────────────────── providers ───────────────────────────

  private buildProviders(): void {
    const { random, ids } = this;
    const currencies = random.shuffle<TCurrency>([
      ...Array<TCurrency>(20).fill("USD"),
      ...Array<TCurrency>(13).fill("EUR"),
      ...Array<TCurrency>(10).fill("GBP"),
      ...Array<TCurrency>(7).fill("JPY"),
    ]);
    const names = new Set<string>();
    const emails = new Set<string>();
    for (let n = 1; n <= DEMO_PROVIDER_COUNT; n++) {
      const currency = currencies[n - 1] ?? "USD";
      const region = REGIONS.find((r) => r.currency === currency) ?? random.pick(REGIONS);
      let first = random.pick(region.first);
      let last = random.pick(region.last);
      while (names.has(`${first} ${last}`)) {
        first = random.pick(region.first);
        last = random.pick(region.last);
      }
      const name = `${first} ${last}`;
      names.add(name);
      const email = this.emailFor(first, last, emails);

      // Providers joined over the last year and a half; the last two joined days ago.
      const isNew = n > DEMO_PROVIDER_COUNT - 2;
      const joinedDaysAgo = isNew ? (n === DEMO_PROVIDER_COUNT ? 9 : 11) : 560 - (n - 1) * 10;
      const createdAt = new Date(this.nowMs - joinedDaysAgo * DAY - random.int(0, 20) * HOUR);
      const provider: TProviderPlan = {
        id: ids.uuid(),
        externalId: providerExternalId(n),
        name,
        region,
        stripeAccountId: ids.stripe("acct", 16),
        createdAt,
        weight: isNew ? 0.7 : random.float(0.4, 2),
        baseShare: Math.round(currency === "JPY" ? logUniform(random, 4_000, 12_000) : logUniform(random, 3_500, 16_000)),
        notReady: null,
      };
      let payoutsEnabled = true;
      let accountUpdatedAt: Date | null = addMs(createdAt, random.int(2, 60) * HOUR);

      if (n === 23) {
        // Stripe disabled payouts six days ago (requirements past due).
        payoutsEnabled = false;
        accountUpdatedAt = new Date(this.nowMs - 6 * DAY - random.int(0, 5) * HOUR);
        provider.weight = 0.8;
        provider.notReady = {
          since: accountUpdatedAt,
          reason: `Stripe account ${provider.stripeAccountId} has payouts disabled (requirements past due)`,
        };
        this.out.audit.push(
          toAuditRow({
            actor: ACTORS.stripeWebhook,
            action: "provider.account_updated",
            entityType: "provider",
            entityId: provider.id,
            reason: "account.updated: requirements.past_due (individual.verification.document)",
            before: { stripeAccountId: provider.stripeAccountId, payoutsEnabled: true },
            after: { stripeAccountId: provider.stripeAccountId, payoutsEnabled: false },
            at: accountUpdatedAt,
          }),
        );
      } else if (n === DEMO_PROVIDER_COUNT - 1) {
        // Signed up but never connected a Stripe account.
        payoutsEnabled = false;
        accountUpdatedAt = null;
        provider.stripeAccountId = null;
        provider.notReady = { since: createdAt, reason: "Provider has not connected a Stripe account yet" };
      } else if (n === DEMO_PROVIDER_COUNT) {
        // Connected, but Stripe is still verifying their identity.
        payoutsEnabled = false;
        accountUpdatedAt = addMs(createdAt, random.int(2, 6) * HOUR);
        provider.notReady = {
          since: createdAt,
          reason: `Stripe account ${provider.stripeAccountId} cannot receive payouts yet (identity verification pending)`,
        };
        this.out.audit.push(
          toAuditRow({
            actor: ACTORS.stripeWebhook,
            action: "provider.account_updated",
            entityType: "provider",
            entityId: provider.id,
            reason: "account.updated: onboarding submitted, verification pending",
            before: { stripeAccountId: null, payoutsEnabled: false },
            after: { stripeAccountId: provider.stripeAccountId, payoutsEnabled: false },
            at: accountUpdatedAt,
          }),
        );
      }

      this.providers.push(provider);
      this.out.providers.push({
        id: provider.id,
        externalId: provider.externalId,
        name,
        email,
        stripeAccountId: provider.stripeAccountId,
        payoutsEnabled,
        accountUpdatedAt,
        createdAt,
        updatedAt: accountUpdatedAt ?? createdAt,
      });
    }
  }

  private emailFor(first: string, last: string, taken: Set<string>): string {
    const f = asciiSlug(first);
    const l = asciiSlug(last);
    for (;;) {
      const local = this.random.weighted<string>([
        [`${f}.${l}`, 4],
        [`${f}${l}`, 2],
        [`${f.charAt(0)}${l}`, 2],
        [`${f}.${l}${this.random.int(2, 99)}`, 1],
        [`${l}.${f}`, 1],
      ]);
      const email = `${local}@${this.random.pick(EMAIL_DOMAINS)}`;
      if (!taken.has(email)) {
        taken.add(email);
        return email;
      }
    }
  }

  // ─────────────────────────── bookings ───────────────────────────

  private planBookings(): void {
    const { random } = this;
    const windowStart = this.nowMs - DEMO_WINDOW_DAYS * DAY;
    const activeFrom = (p: TProviderPlan) => Math.max(windowStart, p.createdAt.getTime() + 12 * HOUR);
    const weights = this.providers.map((p) => [p, (p.weight * (this.nowMs - activeFrom(p))) / (DEMO_WINDOW_DAYS * DAY)] as const);
    for (let i = 0; i < DEMO_BOOKING_COUNT; i++) {
      const provider = random.weighted(weights);
      const currency = provider.region.currency;
      const raw = provider.baseShare * random.float(0.7, 1.6);
      const share = currency === "JPY" ? clamp(Math.round(raw / 100) * 100, 3_000, 20_000) : clamp(Math.round(raw / 5) * 5, 2_000, 30_000);
      this.bookings.push({
        id: "",
        externalId: "",
        provider,
        currency,
        share,
        at: new Date(this.sampleTime(activeFrom(provider), provider.region.utcOffsetHours, windowStart)),
        completed: true,
        scenario: "default",
        payoutId: null,
      });
    }
    for (const booking of random.shuffle(this.bookings).slice(0, DEMO_CANCELLED_BEFORE_COMPLETION)) {
      booking.completed = false;
    }
  }

  /** A completion time: daytime in the provider's region, busier at weekends, growing over the month. */
  private sampleTime(from: number, utcOffsetHours: number, windowStart: number): number {
    const to = this.nowMs - 3 * MINUTE;
    for (;;) {
      const t = this.random.float(from, to);
      const local = new Date(t + utcOffsetHours * HOUR);
      const hour = local.getUTCHours() + local.getUTCMinutes() / 60;
      const day = local.getUTCDay();
      const hourWeight = hour < 7 || hour >= 22 ? 0 : hour < 9 ? 0.45 : hour < 12 ? 1 : hour < 14 ? 0.75 : hour < 19 ? 1 : 0.55;
      const dayWeight = day === 0 || day === 6 ? 1.35 : day === 5 ? 1.15 : 1;
      const trend = 0.85 + (0.3 * (t - windowStart)) / (DEMO_WINDOW_DAYS * DAY);
      if (this.random.next() * 1.56 < hourWeight * dayWeight * trend) return Math.round(t);
    }
  }

  private assignScenarios(): void {
    const { random } = this;
    const ageHours = (b: TBookingPlan) => (this.nowMs - b.at.getTime()) / HOUR;
    const take = (scenario: TScenario, count: number, minAgeHours: number, maxAgeHours: number): TBookingPlan[] => {
      const candidates = this.bookings.filter(
        (b) =>
          b.completed &&
          b.provider.notReady === null &&
          b.scenario === "default" &&
          ageHours(b) >= minAgeHours &&
          ageHours(b) <= maxAgeHours,
      );
      if (candidates.length < count) throw new Error(`seed: not enough bookings for scenario ${scenario}`);
      const chosen = random.shuffle(candidates).slice(0, count);
      for (const b of chosen) b.scenario = scenario;
      return chosen;
    };
    const dueMinutesAgo = (minutes: number) => new Date(this.nowMs - PAYOUT_DELAY_HOURS * HOUR - minutes * MINUTE);

    // Transfers in flight: three just started, one on its second attempt, one stuck for two hours.
    for (const b of take("processing", 3, 50, 120)) b.at = dueMinutesAgo(random.float(1, 6));
    for (const b of take("processing_retrying", 1, 50, 120)) b.at = dueMinutesAgo(random.float(4.5, 6));
    for (const b of take("processing_stuck", 1, 50, 120)) b.at = dueMinutesAgo(120 + random.float(2, 5));

    // A Stripe incident four days ago failed three payouts that came due within minutes of each other.
    const outage = Math.floor((this.nowMs - 4 * DAY) / HOUR) * HOUR + 5 * MINUTE;
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
  }

  /** Booking ids follow completion order, as the platform's would. */
  private numberBookings(): void {
    this.bookings.sort((a, b) => a.at.getTime() - b.at.getTime());
    for (const [i, b] of this.bookings.entries()) {
      b.externalId = bookingExternalId(i + 1);
      b.id = this.ids.uuid();
      b.payoutId = b.completed ? this.ids.uuid() : null;
    }
  }

  // ─────────────────────────── tips ───────────────────────────

  private planTips(): void {
    const { random, ids } = this;
    type TPlannedTip = { booking: TBookingPlan; amount: number; tippedAt: Date; rejected: boolean };
    const planned: TPlannedTip[] = [];
    const latest = this.nowMs - 2 * MINUTE;

    for (const booking of this.bookings) {
      if (!booking.completed || booking.scenario === "late_cancel") continue;
      const forced = booking.scenario === "dispute_tip_refund";
      if (!forced && !random.chance(TIP_RATE)) continue;
      const completed = booking.at.getTime();
      // Most customers tip within a couple of hours; always inside the window.
      const delay = forced
        ? random.int(20, 120) * MINUTE
        : Math.min(5 * MINUTE + Math.round(-Math.log(1 - random.next()) * 2.5 * HOUR), (TIP_WINDOW_HOURS - 0.3) * HOUR);
      const tippedAt = completed + delay;
      if (tippedAt > latest) continue;
      planned.push({
        booking,
        amount: tipAmountFor(random, booking.share, booking.currency),
        tippedAt: new Date(tippedAt),
        rejected: false,
      });
      // Now and then a second, smaller tip later the same day.
      const second = tippedAt + random.int(1, 8) * HOUR;
      if (random.chance(0.06) && second < completed + (TIP_WINDOW_HOURS - 0.2) * HOUR && second < latest) {
        const amount = Math.max(100, Math.round(tipAmountFor(random, booking.share, booking.currency) / 2));
        planned.push({ booking, amount, tippedAt: new Date(second), rejected: false });
      }
    }

    // A handful of tips that came after the window closed.
    const lateCandidates = this.bookings.filter(
      (b) => b.completed && b.scenario === "default" && (this.nowMs - b.at.getTime()) / HOUR > TIP_WINDOW_HOURS + 2,
    );
    for (const booking of random.shuffle(lateCandidates).slice(0, DEMO_REJECTED_TIPS)) {
      const ageHours = (this.nowMs - booking.at.getTime()) / HOUR;
      const lateByHours = random.float(0.3, Math.min(36, ageHours - TIP_WINDOW_HOURS - 0.5));
      const tippedAt = new Date(booking.at.getTime() + (TIP_WINDOW_HOURS + lateByHours) * HOUR);
      planned.push({ booking, amount: tipAmountFor(random, booking.share, booking.currency), tippedAt, rejected: true });
    }

    planned.sort((a, b) => a.tippedAt.getTime() - b.tippedAt.getTime());
    for (const [i, tip] of planned.entries()) {
      const pending: TPendingTip = {
        id: ids.uuid(),
        externalId: tipExternalId(i + 1),
        bookingId: tip.booking.id,
        amount: tip.amount,
        currency: tip.booking.currency,
        stripeChargeId: ids.stripe("ch"),
        tippedAt: tip.tippedAt,
        receivedAt: addMs(tip.tippedAt, random.int(600, 6_000)),
      };
      if (!tip.rejected) {
        const list = this.tipsByBooking.get(tip.booking.id) ?? [];
        list.push(pending);
        this.tipsByBooking.set(tip.booking.id, list);
        continue;
      }
      // Worded as lib/tips/add-tip.ts words it.
      const rejectionReason =
        `tip received after the ${DEFAULT_TIMING.tipWindowHours}-hour window ` +
        `(window ended ${tipWindowEndsAt(tip.booking.at).toISOString()}, tipped ${tip.tippedAt.toISOString()})`;
      this.out.tips.push({
        id: pending.id,
        externalId: pending.externalId,
        bookingId: pending.bookingId,
        payoutId: null,
        amount: pending.amount,
        currency: pending.currency,
        status: "rejected",
        rejectionReason,
        stripeChargeId: pending.stripeChargeId,
        tippedAt: pending.tippedAt,
        createdAt: pending.receivedAt,
      });
      this.out.audit.push(
        toAuditRow({
          actor: ACTORS.bookingWebhook,
          action: "tip.rejected",
          entityType: "tip",
          entityId: pending.id,
          reason: rejectionReason,
          after: {
            bookingId: pending.bookingId,
            payoutId: tip.booking.payoutId,
            amount: pending.amount,
            currency: pending.currency,
            tippedAt: pending.tippedAt.toISOString(),
          },
          at: pending.receivedAt,
        }),
      );
    }
  }

  // ─────────────────────────── stories ───────────────────────────

  private writeBooking(b: TBookingPlan): void {
    const { random, ids } = this;
    const row: TBookingRow = {
      id: b.id,
      externalId: b.externalId,
      providerId: b.provider.id,
      currency: b.currency,
      providerShare: b.share,
      stripeChargeId: ids.stripe("ch"),
      completedAt: b.completed ? b.at : null,
      cancelledAt: b.completed ? null : b.at,
      cancellationReason: b.completed ? null : random.pick(CANCELLATION_REASONS),
      createdAt: addMs(b.at, random.int(800, 8_000)),
      updatedAt: b.at,
    };
    row.updatedAt = row.createdAt;
    this.out.bookings.push(row);
    this.chargeOfBooking.set(row.id, row.stripeChargeId);

    if (!b.completed || !b.payoutId) {
      this.out.audit.push(
        toAuditRow({
          actor: ACTORS.bookingWebhook,
          action: "booking.cancelled",
          entityType: "booking",
          entityId: b.id,
          reason: row.cancellationReason,
          after: { cancelledAt: b.at.toISOString() },
          at: row.createdAt,
        }),
      );
      return;
    }

    // booking.completed and payout.scheduled: one transaction (lib/bookings/record-completed-booking.ts).
    const createdAt = addMs(row.createdAt, random.int(5, 60));
    const payout: TPayoutRow = {
      id: b.payoutId,
      bookingId: b.id,
      providerId: b.provider.id,
      currency: b.currency,
      providerShare: b.share,
      tipAmount: 0,
      refundedAmount: 0,
      amount: b.share,
      amountVersion: 1,
      reversedAmount: 0,
      status: "scheduled",
      holdReason: null,
      holdNote: null,
      cancelReason: null,
      eligibleAt: payoutDueAt(b.at),
      attempts: 0,
      lastError: null,
      processingStartedAt: null,
      stripeTransferId: null,
      transferredAt: null,
      version: 0,
      createdAt,
      updatedAt: createdAt,
    };
    const story = new PayoutStory(
      { now: this.now, random, ids, out: this.out },
      payout,
      this.tipsByBooking.get(b.id) ?? [],
      ACTORS.bookingWebhook,
    );
    story.record({
      actor: ACTORS.bookingWebhook,
      action: "booking.completed",
      entityType: "booking",
      entityId: b.id,
      after: { externalId: b.externalId, completedAt: b.at.toISOString(), providerShare: b.share, currency: b.currency },
      at: row.createdAt,
    });
    story.record({
      actor: ACTORS.bookingWebhook,
      action: "payout.scheduled",
      entityType: "payout",
      entityId: payout.id,
      reason: "booking completed",
      before: null,
      after: payoutSnapshot(payout),
      at: createdAt,
    });
    this.playScenario(b, row, story);
    story.finish();
    this.out.payouts.push(payout);
  }

  private playScenario(b: TBookingPlan, booking: TBookingRow, story: PayoutStory): void {
    const { random } = this;
    const payout = story.payout;
    const completed = b.at.getTime();
    const eligible = payout.eligibleAt.getTime();
    const age = this.nowMs - completed;
    const soonAfterDue = () => new Date(eligible + random.int(15, 150) * SECOND);
    const transferAfter = (t: number) => new Date(Math.max(t, eligible) + random.int(15, 150) * SECOND);
    const success: TAttemptOutcome[] = [{ kind: "success" }];
    const threeTimes = (error: TStripeError) => Array<TAttemptOutcome>(MAX_TRANSFER_ATTEMPTS).fill({ kind: "error", error });

    switch (b.scenario) {
      case "default": {
        const notReady = b.provider.notReady;
        if (notReady && eligible >= notReady.since.getTime()) {
          // The transfer run finds the account not ready and holds the payout instead.
          const heldAt = soonAfterDue();
          if (heldAt.getTime() < this.nowMs) {
            const why = describeIneligibility(["provider_account_not_ready"]);
            story.change(heldAt, ACTORS.transfer, "payout.held", {
              event: "hold",
              data: { holdReason: "provider_account_not_ready", holdNote: why },
              reason: why,
              runId: this.ids.ulid(heldAt),
            });
          }
          return;
        }
        this.transferIfStarted(story, soonAfterDue(), success);
        return;
      }
      case "transfer_retry": {
        const error = random.weighted<TStripeError>([
          [STRIPE_ERRORS.connection, 2],
          [STRIPE_ERRORS.api, 2],
          [STRIPE_ERRORS.rateLimit, 1],
        ]);
        story.runTransfer(soonAfterDue(), [{ kind: "error", error }, { kind: "success" }]);
        return;
      }
      case "processing":
        story.runTransfer(new Date(eligible + random.int(10, 40) * SECOND), [{ kind: "pending" }]);
        return;
      case "processing_retrying":
        story.runTransfer(new Date(eligible + random.int(10, 20) * SECOND), [
          { kind: "error", error: STRIPE_ERRORS.connection },
          { kind: "pending" },
        ]);
        return;
      case "processing_stuck":
        // Claimed two hours ago; the run died before recording Stripe's answer.
        story.runTransfer(new Date(eligible + random.int(60, 120) * SECOND), [{ kind: "pending" }]);
        return;
      case "failed":
      case "failed_outage": {
        const error = b.scenario === "failed_outage" ? STRIPE_ERRORS.connection : STRIPE_ERRORS.api;
        const failedAt = story.runTransfer(soonAfterDue(), threeTimes(error));
        this.raiseFailedAlert(story, failedAt);
        return;
      }
      case "failed_permanent": {
        const error = invalidDestinationError(b.provider.stripeAccountId ?? "acct_unknown");
        const failedAt = story.runTransfer(soonAfterDue(), [{ kind: "error", error }]);
        this.raiseFailedAlert(story, failedAt);
        return;
      }
      case "failed_retried": {
        const failedAt = story.runTransfer(soonAfterDue(), threeTimes(STRIPE_ERRORS.api));
        const alert = this.raiseFailedAlert(story, failedAt);
        const acknowledgedAt = addMs(failedAt, random.int(20, 180) * MINUTE);
        alert.acknowledgedById = this.adminRef.id;
        alert.acknowledgedAt = acknowledgedAt;
        story.record({
          actor: this.admin,
          action: "alert.acknowledged",
          entityType: "alert",
          entityId: alert.id ?? "",
          reason: "Stripe reported elevated API errors at the time; retrying once their status page is green",
          before: { acknowledgedAt: null },
          after: { acknowledgedAt: acknowledgedAt.toISOString() },
          at: acknowledgedAt,
        });
        const retriedAt = addMs(acknowledgedAt, random.int(10, 120) * MINUTE);
        story.change(retriedAt, this.operator, "payout.retried", {
          event: "retry",
          data: { attempts: 0, processingStartedAt: null },
          reason: "Stripe incident resolved (status.stripe.com); retrying the transfer",
        });
        story.runTransfer(addMs(retriedAt, random.int(3, 20) * SECOND), success);
        return;
      }
      case "admin_hold": {
        const heldAt = new Date(completed + random.float(1 * HOUR, Math.min(46 * HOUR, age - 0.3 * HOUR)));
        this.adminHold(story, heldAt, random.pick(ADMIN_HOLD_REASONS));
        return;
      }
      case "admin_hold_released": {
        const heldAt = new Date(completed + random.float(2 * HOUR, 30 * HOUR));
        this.adminHold(story, heldAt, random.pick(ADMIN_HOLD_REASONS));
        const releasedAt = addMs(heldAt, random.float(2 * HOUR, 40 * HOUR));
        story.change(releasedAt, this.operator, "payout.released", { event: "release", reason: random.pick(ADMIN_RELEASE_REASONS) });
        story.runTransfer(transferAfter(releasedAt.getTime()), success);
        return;
      }
      case "admin_cancel": {
        const heldAt = new Date(completed + random.float(3 * HOUR, 20 * HOUR));
        this.adminHold(story, heldAt, "Looks like a duplicate of an earlier booking for the same customer; checking with the platform");
        const cancelledAt = new Date(Math.max(heldAt.getTime() + random.float(3 * HOUR, 24 * HOUR), completed + 25 * HOUR));
        const reason = "Duplicate booking confirmed by the booking platform; the customer was refunded there";
        story.change(cancelledAt, this.admin, "payout.cancelled", { event: "cancel", data: { cancelReason: reason }, reason });
        return;
      }
      case "late_cancel": {
        // booking.cancelled and payout.cancelled: one transaction (lib/bookings/cancel-booking.ts).
        const cancelledAt = new Date(completed + random.float(1 * HOUR, Math.min(40 * HOUR, age - 0.3 * HOUR)));
        const reason = random.pick(LATE_CANCELLATION_REASONS);
        const receivedAt = addMs(cancelledAt, random.int(800, 4_000));
        booking.cancelledAt = cancelledAt;
        booking.cancellationReason = reason;
        booking.updatedAt = receivedAt;
        story.record({
          actor: ACTORS.bookingWebhook,
          action: "booking.cancelled",
          entityType: "booking",
          entityId: b.id,
          reason,
          after: { cancelledAt: cancelledAt.toISOString() },
          at: receivedAt,
        });
        story.change(addMs(receivedAt, random.int(2, 40)), ACTORS.bookingWebhook, "payout.cancelled", {
          event: "cancel",
          data: { cancelReason: "booking cancelled" },
          reason,
        });
        return;
      }
      case "dispute_open": {
        const openedAt = new Date(completed + random.float(1 * HOUR, Math.min(46 * HOUR, age - 0.25 * HOUR)));
        this.openDispute(b, story, openedAt, "platform");
        return;
      }
      case "dispute_provider_won":
      case "dispute_partial":
      case "dispute_customer_won":
      case "dispute_tip_refund": {
        const openedAt = new Date(completed + random.float(3 * HOUR, 40 * HOUR));
        const dispute = this.openDispute(b, story, openedAt, "platform");
        let resolvedAt = addMs(openedAt, random.float(12 * HOUR, 96 * HOUR));
        if (b.scenario === "dispute_customer_won") resolvedAt = new Date(Math.max(resolvedAt.getTime(), completed + 26 * HOUR));
        story.advanceTo(resolvedAt);
        const unit = b.currency === "JPY" ? 100 : 50;
        let outcome: DisputeOutcome = "provider_won";
        let refund = 0;
        let scope: DisputeScope = "booking";
        if (b.scenario === "dispute_partial") {
          outcome = "partial";
          refund = Math.max(unit, Math.round((payout.providerShare * random.float(0.25, 0.6)) / unit) * unit);
        } else if (b.scenario === "dispute_tip_refund") {
          outcome = "customer_won";
          refund = payout.tipAmount;
          scope = "tip";
        } else if (b.scenario === "dispute_customer_won") {
          outcome = "customer_won";
          refund = payout.providerShare + payout.tipAmount;
          scope = payout.tipAmount > 0 ? "both" : "booking";
        }
        const recordedAt = this.resolveDispute(story, dispute, resolvedAt, outcome, refund, scope);
        // The same transaction brings the payout in line (lib/payouts/sync-payout-with-booking.ts).
        const cause = refund > 0 ? `dispute resolved (${outcome}), refund ${refund}` : `dispute resolved (${outcome})`;
        let at = addMs(recordedAt, random.int(2, 30));
        if (refund > 0) {
          story.change(at, dispute.actor, "payout.amount_adjusted", {
            data: { refundedAmount: payout.refundedAmount + refund },
            reason: cause,
          });
          dispute.row.refundAppliedAt = payout.updatedAt;
          at = addMs(at, random.int(2, 20));
        }
        if (payout.amount === 0) {
          story.change(at, dispute.actor, "payout.cancelled", {
            event: "cancel",
            data: { cancelReason: "fully refunded" },
            reason: "fully refunded",
          });
          return;
        }
        story.change(at, dispute.actor, "payout.released", { event: "release", reason: "all disputes resolved" });
        story.runTransfer(transferAfter(at.getTime()), success);
        return;
      }
      case "post_dispute_open":
      case "post_provider_won":
      case "post_reversed":
      case "post_partially_reversed":
      case "post_reversal_failed": {
        const transferredAt = story.runTransfer(soonAfterDue(), success);
        const openedAt = addMs(transferredAt, random.float(2 * DAY, 8 * DAY));
        const dispute = this.openDispute(b, story, openedAt, random.chance(0.5) ? "stripe" : "platform");
        if (b.scenario === "post_dispute_open") return;
        const resolvedAt = addMs(openedAt, random.float(1 * DAY, 5 * DAY));
        if (b.scenario === "post_provider_won") {
          this.resolveDispute(story, dispute, resolvedAt, "provider_won", 0, "booking");
          return;
        }
        const partial = b.scenario === "post_partially_reversed";
        const unit = b.currency === "JPY" ? 100 : 50;
        const amount = partial
          ? clamp(Math.round((payout.amount * random.float(0.2, 0.6)) / unit) * unit, unit, payout.amount - unit)
          : payout.amount;
        const scope: DisputeScope = payout.tipAmount > 0 && !partial ? "both" : "booking";
        const recordedAt = this.resolveDispute(story, dispute, resolvedAt, partial ? "partial" : "customer_won", amount, scope);
        this.reverse(story, dispute, addMs(recordedAt, random.int(2, 30)), amount, b.scenario === "post_reversal_failed");
        return;
      }
    }
  }

  private adminHold(story: PayoutStory, at: Date, reason: string): void {
    story.change(at, this.operator, "payout.held", {
      event: "hold",
      data: { holdReason: "admin_hold", holdNote: reason },
      reason,
    });
  }

  /** Starts the transfer unless it would start in the last moments (then it is still due). */
  private transferIfStarted(story: PayoutStory, start: Date, outcomes: readonly TAttemptOutcome[]): void {
    if (start.getTime() + MINUTE > this.nowMs) return;
    story.runTransfer(start, outcomes);
  }

  /** As lib/payouts/transfer-payout.ts `markFailed` raises it. */
  private raiseFailedAlert(story: PayoutStory, failedAt: Date): Prisma.AlertCreateManyInput {
    const payout = story.payout;
    const attemptNumber = this.out.transferAttempts.filter((a) => a.payoutId === payout.id).length;
    const alert: Prisma.AlertCreateManyInput = {
      id: this.ids.uuid(),
      kind: "payout_failed",
      severity: "critical",
      title: "Payout transfer failed",
      message:
        `Payout ${payout.id} (${payout.amount} ${payout.currency}) failed after ${payout.attempts} ` +
        `attempt${payout.attempts === 1 ? "" : "s"}: ${payout.lastError ?? "unknown error"}`,
      payoutId: payout.id,
      providerId: payout.providerId,
      dedupeKey: `payout_failed:${payout.id}:${attemptNumber}`,
      createdAt: addMs(failedAt, this.random.int(2, 40)),
    };
    this.out.alerts.push(alert);
    return alert;
  }

  /** lib/disputes/open-dispute.ts: the dispute, and (before a transfer) the payout held in the same transaction. */
  private openDispute(b: TBookingPlan, story: PayoutStory, openedAt: Date, source: "platform" | "stripe"): TOpenDispute {
    const { random, ids } = this;
    const payout = story.payout;
    story.advanceTo(openedAt);
    const afterTransfer = payout.transferredAt !== null;
    this.disputeSeq += 1;
    const externalId = source === "platform" ? disputeExternalId(this.disputeSeq) : null;
    const stripeDisputeId = source === "stripe" ? ids.stripe("du") : null;
    const reason = source === "platform" ? random.pick(PLATFORM_DISPUTE_REASONS) : random.pick(STRIPE_DISPUTE_REASONS);
    const createdAt = addMs(openedAt, random.int(800, 5_000));
    const row: TDisputeRow = {
      id: ids.uuid(),
      externalId,
      stripeDisputeId,
      stripeChargeId: source === "stripe" ? (this.chargeOfBooking.get(b.id) ?? null) : null,
      bookingId: b.id,
      scope: "booking",
      reason,
      status: "open",
      outcome: null,
      refundedAmount: 0,
      currency: b.currency,
      openedAt,
      resolvedAt: null,
      openedAfterTransfer: afterTransfer,
      refundAppliedAt: null,
      createdAt,
      updatedAt: createdAt,
    };
    this.out.disputes.push(row);
    const actor: TActor = source === "platform" ? ACTORS.bookingWebhook : ACTORS.stripeWebhook;
    story.record({
      actor,
      action: "dispute.opened",
      entityType: "dispute",
      entityId: row.id,
      reason,
      after: { bookingId: b.id, payoutId: payout.id, payoutStatus: payout.status, scope: row.scope },
      at: createdAt,
    });
    if (!afterTransfer) {
      story.change(addMs(createdAt, random.int(2, 30)), actor, "payout.held", {
        event: "hold",
        data: { holdReason: "dispute_open", holdNote: "1 open dispute" },
        reason: "dispute opened",
      });
    }
    return { row, ref: externalId ?? stripeDisputeId ?? row.id, actor };
  }

  /** lib/disputes/resolve-dispute.ts; returns when the resolution was recorded. */
  private resolveDispute(
    story: PayoutStory,
    dispute: TOpenDispute,
    resolvedAt: Date,
    outcome: DisputeOutcome,
    refundedAmount: number,
    scope: DisputeScope,
  ): Date {
    const row = dispute.row;
    const recordedAt = addMs(resolvedAt, this.random.int(800, 5_000));
    Object.assign(row, {
      status: "resolved",
      outcome,
      refundedAmount,
      scope,
      resolvedAt,
      updatedAt: recordedAt,
    } satisfies Partial<TDisputeRow>);
    story.record({
      actor: dispute.actor,
      action: "dispute.resolved",
      entityType: "dispute",
      entityId: row.id,
      reason: outcome,
      after: { status: "resolved", outcome, refundedAmount, currency: row.currency },
      at: recordedAt,
    });
    return recordedAt;
  }

  /**
   * A dispute lost after the transfer: the sync requests a reversal (lib/payouts/sync-payout-with-booking.ts),
   * the reverse-transfer function makes it or, when the provider's balance is too low, records a debt
   * and alerts (lib/payouts/reverse-transfer.ts).
   */
  private reverse(story: PayoutStory, dispute: TOpenDispute, requestedAt: Date, amount: number, fails: boolean): void {
    const { random, ids } = this;
    const payout = story.payout;
    const reversalId = ids.uuid();
    story.record({
      actor: dispute.actor,
      action: "payout.reversal_requested",
      entityType: "payout",
      entityId: payout.id,
      reason: `dispute ${dispute.ref} lost after transfer`,
      before: payoutSnapshot(payout),
      after: { ...payoutSnapshot(payout), reversalId, reversalAmount: amount },
      at: requestedAt,
    });
    const finishedAt = addMs(requestedAt, random.int(2, 12) * SECOND);
    const error = "StripeInvalidRequestError (balance_insufficient): The connected account's balance is too low to reverse this transfer.";
    const reversal: Prisma.TransferReversalCreateManyInput = {
      id: reversalId,
      payoutId: payout.id,
      disputeId: dispute.row.id,
      stripeReversalId: fails ? null : ids.stripe("trr"),
      amount,
      currency: payout.currency,
      status: fails ? "failed" : "succeeded",
      initiatedBy: "platform",
      idempotencyKey: reversalIdempotencyKey(dispute.row.id),
      failureReason: fails ? error : null,
      createdAt: requestedAt,
      updatedAt: finishedAt,
    };
    this.out.reversals.push(reversal);
    const runId = ids.ulid(addMs(requestedAt, 500));

    if (!fails) {
      const reversedAmount = payout.reversedAmount + amount;
      story.change(finishedAt, ACTORS.reversal, "payout.reversed", {
        event: reversedAmount >= payout.amount ? "reverse_fully" : "reverse_partially",
        data: { reversedAmount },
        reason: "refund after transfer",
        runId,
        details: { stripeReversalId: reversal.stripeReversalId ?? null, reversalAmount: amount },
      });
      return;
    }

    this.out.debts.push({
      id: ids.uuid(),
      providerId: payout.providerId,
      payoutId: payout.id,
      disputeId: dispute.row.id,
      amount,
      currency: payout.currency,
      status: "open",
      reason: `transfer reversal failed: ${error}`,
      createdAt: finishedAt,
    });
    story.record({
      actor: ACTORS.reversal,
      action: "payout.reversal_failed",
      entityType: "payout",
      entityId: payout.id,
      reason: error,
      before: payoutSnapshot(payout),
      after: { ...payoutSnapshot(payout), reversalId, providerOwes: amount },
      runId,
      at: finishedAt,
    });
    this.out.alerts.push({
      id: ids.uuid(),
      kind: "reversal_failed",
      severity: "critical",
      title: "Transfer reversal failed: the provider owes the refund",
      message:
        `Could not reverse ${amount} ${payout.currency} of transfer ${payout.stripeTransferId ?? "(none)"} (payout ${payout.id}): ` +
        `${error}. Recorded as a debt of the provider.`,
      payoutId: payout.id,
      providerId: payout.providerId,
      dedupeKey: `reversal_failed:${reversalId}`,
      createdAt: addMs(finishedAt, random.int(2, 40)),
    });
  }
}

export function buildDemoDataset(input: { now: Date; admin: TAdminRef; operator: TAdminRef; seed?: number }): TDemoDataset {
  return new DemoBuilder(input.now, input.admin, input.operator, input.seed ?? DEMO_SEED).build();
}

// ─────────────────────────── helpers ───────────────────────────

function toTime(value: Date | string | undefined): number {
  return value === undefined ? 0 : new Date(value).getTime();
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function logUniform(random: TRandom, min: number, max: number): number {
  return Math.exp(random.float(Math.log(min), Math.log(max)));
}

function asciiSlug(value: string): string {
  return value
    .normalize("NFD")
    .replace(/\p{Diacritic}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "");
}

/** Round tips (5.00, 10.00, ¥500) or a percentage of the share; never more than 35 % of it. */
function tipAmountFor(random: TRandom, share: number, currency: TCurrency): number {
  const cap = Math.round(share * 0.35);
  let amount: number;
  if (currency === "JPY") {
    amount = random.chance(0.7)
      ? random.pick([300, 500, 500, 1_000, 1_000, 1_500, 2_000])
      : Math.round((share * random.pick([0.1, 0.15, 0.2])) / 10) * 10;
  } else {
    amount = random.chance(0.6)
      ? random.pick([200, 300, 500, 500, 1_000, 1_000, 1_500, 2_000])
      : Math.round(share * random.pick([0.1, 0.15, 0.18, 0.2]));
  }
  return Math.max(1, amount > cap ? Math.round(share * 0.1) : amount);
}
