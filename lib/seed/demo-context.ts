// What the demo data set's builders share: the clock, the random streams, the rows written so
// far, the plans made, and the shapes and numbers they agree on. Pure (no I/O).
import type { DisputeOutcome, DisputeScope, DisputeStatus } from "@/generated/prisma/enums";
import { adminActorOf } from "@/lib/audit/admin-actor";
import type { TActor } from "@/lib/audit/record-audit";
import { DEFAULT_TIMING } from "@/lib/payouts/timing";

import { emptyDataset, type TAdminRef, type TDemoDataset } from "./demo-dataset-types";
import type { TRegion } from "./demo-names";
import { createIdFactory, createRandom, type TIdFactory, type TRandom } from "./prng";

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export const DEMO_SEED = 20_261_124;
export const DEMO_PROVIDER_COUNT = 50;
export const DEMO_BOOKING_COUNT = 2_000;
export const DEMO_WINDOW_DAYS = 30;
/** Bookings cancelled before they were ever completed (no payout). */
export const DEMO_CANCELLED_BEFORE_COMPLETION = 40;
export const DEMO_REJECTED_TIPS = 8;
/** The engine's defaults (48 h payout delay, 24 h tip window), as lib/payouts/timing.ts has them. */
export const PAYOUT_DELAY_HOURS = DEFAULT_TIMING.payoutDelayHours;
export const TIP_WINDOW_HOURS = DEFAULT_TIMING.tipWindowHours;

export const providerExternalId = (n: number) => `prov_${String(n).padStart(4, "0")}`;
export const bookingExternalId = (n: number) => `bk_${String(n).padStart(6, "0")}`;
export const tipExternalId = (n: number) => `tip_${String(n).padStart(6, "0")}`;
export const disputeExternalId = (n: number) => `dsp_${String(n).padStart(5, "0")}`;

/** The first demo provider; its presence means the data set was already seeded. */
export const DEMO_MARKER_PROVIDER_EXTERNAL_ID = providerExternalId(1);

export type TCurrency = TRegion["currency"];

export type TProviderPlan = {
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

export type TScenario =
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
  /** The provider's open debt (post_reversal_failed) is recovered from this payout at its claim. */
  | "debt_recovered"
  | "late_cancel";

export type TBookingPlan = {
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

export type TBookingRow = {
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

export type TDisputeRow = {
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

/** A tip accepted for a booking, waiting in its story for the moment it was received. */
export type TPendingTip = {
  id: string;
  externalId: string;
  bookingId: string;
  amount: number;
  currency: string;
  stripeChargeId: string;
  tippedAt: Date;
  receivedAt: Date;
};

export type TOpenDispute = { row: TDisputeRow; ref: string; actor: TActor };

/** The builders' shared state: read-only inputs, then what has been planned and written so far. */
export type TDemoContext = {
  readonly now: Date;
  readonly nowMs: number;
  readonly random: TRandom;
  readonly ids: TIdFactory;
  readonly out: TDemoDataset;
  readonly adminRef: TAdminRef;
  readonly admin: TActor;
  readonly operator: TActor;
  providers: TProviderPlan[];
  bookings: TBookingPlan[];
  /** Each booking's Stripe charge, for the disputes Stripe opens on it. */
  readonly chargeOfBooking: Map<string, string>;
  readonly tipsByBooking: Map<string, TPendingTip[]>;
  disputeSeq: number;
};

export function createDemoContext(now: Date, adminRef: TAdminRef, operatorRef: TAdminRef, seed: number): TDemoContext {
  return {
    now,
    nowMs: now.getTime(),
    random: createRandom(seed),
    // A separate stream for ids, so adding an id never reshuffles the story.
    ids: createIdFactory(createRandom(seed ^ 0x5bd1e995)),
    out: emptyDataset(),
    adminRef,
    admin: adminActorOf(adminRef),
    operator: adminActorOf(operatorRef),
    providers: [],
    bookings: [],
    chargeOfBooking: new Map(),
    tipsByBooking: new Map(),
    disputeSeq: 0,
  };
}

export function addMs(at: Date, ms: number): Date {
  return new Date(at.getTime() + ms);
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
