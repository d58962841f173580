// The overview's shape, shared by the server (lib/overview/get-overview.ts), the admin
// API (GET /api/admin/overview) and the client that refreshes it. JSON-safe: dates are
// ISO strings, amounts integer minor units (numbers, checked to be safe integers).
import type { HoldReason, PayoutStatus } from "@/generated/prisma/enums";
import type { TAlertListItem } from "@/lib/alerts/types";

/** How many payouts and how much money, in one currency. */
export type TCurrencyTotal = { currency: string; count: number; amount: number };

export type TStatusSummary = {
  status: PayoutStatus;
  count: number;
  /** One entry per currency present in any payout, zeros included, sorted by currency. */
  totals: TCurrencyTotal[];
};

/** What every payout row on the overview shows. */
export type TOverviewPayoutRow = {
  id: string;
  providerId: string;
  providerName: string;
  bookingExternalId: string;
  amount: number;
  currency: string;
};

export type TDuePayout = TOverviewPayoutRow & { eligibleAt: string };

export type TFailedPayout = TOverviewPayoutRow & {
  attempts: number;
  lastError: string | null;
  updatedAt: string;
};

/** A payout in `processing` for longer than the sweep's threshold: its transfer outcome is unknown. */
export type TStuckPayout = TOverviewPayoutRow & {
  attempts: number;
  processingStartedAt: string;
};

/** The outcomes the volume chart shows, in the order they are stacked. */
export const VOLUME_OUTCOMES = ["transferred", "reversed", "failed", "cancelled"] as const;
export type TVolumeOutcome = (typeof VOLUME_OUTCOMES)[number];

/** How many and how much (minor units) in one currency, for one outcome on one day. */
export type TVolumePoint = { count: number; amount: number };

export type TVolumeDay = { day: string } & Record<TVolumeOutcome, TVolumePoint>;

export type TVolumeSeries = {
  currency: string;
  /** One entry per day of the window, oldest first, zeros included. */
  days: TVolumeDay[];
  /** Sums over the whole window. */
  totals: Record<TVolumeOutcome, TVolumePoint>;
};

/** An open alert as the Alerts list shows it, without the acknowledgement and the provider. */
export type TOverviewAlert = Pick<TAlertListItem, "id" | "kind" | "severity" | "title" | "message" | "payoutId" | "createdAt">;

/** `reason` is null for on-hold payouts with no recorded reason (should not happen). */
export type THoldReasonCount = { reason: HoldReason | null; count: number };

/** The workflow engine (Inngest) as the app last saw it, and the work waiting for it. */
export type TEngineStatus = {
  /** null: the app has not tried to reach it yet. */
  reachable: boolean | null;
  checkedAt: string | null;
  lastOkAt: string | null;
  lastError: string | null;
  /** Events recorded but not yet accepted by Inngest (re-sent by the sweep). */
  unsentEvents: number;
  oldestUnsentAt: string | null;
  /** Scheduled payouts already due: the engine should be transferring them. */
  payoutsWaiting: number;
};

export type TOverview = {
  generatedAt: string;
  engine: TEngineStatus;
  /** Every currency that appears in any payout, sorted. */
  currencies: string[];
  /** Every payout status, in the lifecycle's order. */
  byStatus: TStatusSummary[];
  dueSoon: {
    /** Scheduled payouts with windowStart <= eligibleAt < windowEnd. */
    windowStart: string;
    windowEnd: string;
    count: number;
    /** Only currencies with payouts due. */
    totals: TCurrencyTotal[];
    /** The soonest due, at most DUE_SOON_LIST_LIMIT. */
    soonest: TDuePayout[];
  };
  failed: {
    count: number;
    /** Only currencies with failed payouts. */
    totals: TCurrencyTotal[];
    /** Newest first (by last update), at most FAILED_LIST_LIMIT. */
    payouts: TFailedPayout[];
  };
  onHold: {
    count: number;
    /** Every hold reason, zeros included; plus a null reason when such rows exist. */
    byReason: THoldReasonCount[];
  };
  stuck: {
    /** Processing for longer than this (the sweep's STUCK_PROCESSING_MS) counts as stuck. */
    thresholdMinutes: number;
    count: number;
    /** Longest stuck first, at most STUCK_LIST_LIMIT. */
    payouts: TStuckPayout[];
  };
  /**
   * Payout volume per UTC day over the last VOLUME_DAYS days (today included), by outcome:
   * transferred (by transfer time), reversed (succeeded reversals, by when they settled),
   * failed and cancelled (payouts now in that state, by their last change).
   */
  volume: {
    /** The days of the window as YYYY-MM-DD (UTC), oldest first. */
    days: string[];
    /** Only currencies with activity in the window, sorted. */
    series: TVolumeSeries[];
  };
  alerts: {
    /** Unacknowledged alerts. */
    openCount: number;
    /** The newest unacknowledged alerts, at most NEWEST_ALERTS_LIMIT. */
    newest: TOverviewAlert[];
  };
};
