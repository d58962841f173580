import "server-only";

import { HoldReason, PayoutStatus } from "@/generated/prisma/enums";
import type { Db } from "@/lib/db";
import { ENGINE_STATE_KEY, type TEngineState } from "@/lib/outbox/publish-outbox";
import { STUCK_PROCESSING_MS } from "@/lib/payouts/sweep-payouts";

import { COMPACT_ON_READ_ROWS, compactPayoutTotals } from "./compact-payout-totals";
import {
  VOLUME_OUTCOMES,
  type TCurrencyTotal,
  type TEngineStatus,
  type THoldReasonCount,
  type TOverview,
  type TStatusSummary,
  type TOverviewPayoutRow,
  type TVolumeOutcome,
  type TVolumePoint,
  type TVolumeSeries,
} from "./types";

export const DUE_SOON_WINDOW_HOURS = 48;
export const DUE_SOON_LIST_LIMIT = 10;
export const FAILED_LIST_LIMIT = 20;
export const STUCK_LIST_LIMIT = 20;
export const VOLUME_DAYS = 30;
export const NEWEST_ALERTS_LIMIT = 5;

const DAY_MS = 24 * 60 * 60 * 1000;

const STATUSES = Object.values(PayoutStatus);
const HOLD_REASONS = Object.values(HoldReason);

type TTotalsRow = { currency: string; count: bigint; amount: bigint };
/** `rows`: how many delta rows were summed into this one. */
type TStatusRow = TTotalsRow & { status: string; rows: bigint };
type THoldRow = { reason: string | null; count: bigint };
type TVolumeRow = { outcome: string; currency: string; day: string; count: bigint; amount: bigint };

/** Postgres returns COUNT and SUM as bigint; refuse to round a sum that a double cannot hold. */
function toSafeNumber(value: bigint | number, what: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what} ${value.toString()} is beyond a safe integer.`);
  return n;
}

function toTotal(row: TTotalsRow): TCurrencyTotal {
  return {
    currency: row.currency,
    count: toSafeNumber(row.count, `Count for ${row.currency}`),
    amount: toSafeNumber(row.amount, `Sum for ${row.currency}`),
  };
}

function isPayoutStatus(value: string): value is PayoutStatus {
  return (STATUSES as readonly string[]).includes(value);
}

function isHoldReason(value: string): value is HoldReason {
  return (HOLD_REASONS as readonly string[]).includes(value);
}

function isVolumeOutcome(value: string): value is TVolumeOutcome {
  return (VOLUME_OUTCOMES as readonly string[]).includes(value);
}

/** The UTC days [today - (VOLUME_DAYS - 1), today] as YYYY-MM-DD, and the instants bounding them. */
export function volumeWindow(now: Date): { start: Date; end: Date; days: string[] } {
  const startOfToday = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const start = new Date(startOfToday - (VOLUME_DAYS - 1) * DAY_MS);
  const days = Array.from({ length: VOLUME_DAYS }, (_, i) => new Date(start.getTime() + i * DAY_MS).toISOString().slice(0, 10));
  return { start, end: new Date(startOfToday + DAY_MS), days };
}

function emptyOutcomes(): Record<TVolumeOutcome, TVolumePoint> {
  return {
    transferred: { count: 0, amount: 0 },
    reversed: { count: 0, amount: 0 },
    failed: { count: 0, amount: 0 },
    cancelled: { count: 0, amount: 0 },
  };
}

/** One series per currency with activity, a point per day and outcome (zeros included); sums checked to be safe integers. */
function toVolumeSeries(rows: TVolumeRow[], days: string[]): TVolumeSeries[] {
  const unknown = rows.find((row) => !isVolumeOutcome(row.outcome));
  if (unknown) throw new Error(`Unknown volume outcome: ${unknown.outcome}`);
  const currencies = [...new Set(rows.map((row) => row.currency))].sort();
  return currencies.map((currency) => {
    const byDay = new Map(days.map((day) => [day, emptyOutcomes()]));
    const totals = emptyOutcomes();
    for (const row of rows) {
      if (row.currency !== currency || !isVolumeOutcome(row.outcome)) continue;
      const point = byDay.get(row.day);
      if (!point) continue;
      const what = `${row.outcome} volume for ${currency} on ${row.day}`;
      point[row.outcome] = { count: toSafeNumber(row.count, `Count of ${what}`), amount: toSafeNumber(row.amount, `Sum of ${what}`) };
      const total = totals[row.outcome];
      totals[row.outcome] = {
        count: toSafeNumber(BigInt(total.count) + row.count, `Count of ${row.outcome} for ${currency}`),
        amount: toSafeNumber(BigInt(total.amount) + row.amount, `Sum of ${row.outcome} for ${currency}`),
      };
    }
    return { currency, days: days.map((day) => ({ day, ...(byDay.get(day) ?? emptyOutcomes()) })), totals };
  });
}

/** The fields every payout row on the overview shows. */
function payoutRow(p: {
  id: string;
  amount: number;
  currency: string;
  provider: { id: string; name: string };
  booking: { externalId: string };
}): TOverviewPayoutRow {
  return {
    id: p.id,
    providerId: p.provider.id,
    providerName: p.provider.name,
    bookingExternalId: p.booking.externalId,
    amount: p.amount,
    currency: p.currency,
  };
}

/**
 * The dashboard overview at `now`: totals per status and currency, payouts due in the
 * next 48 hours (scheduled, now <= eligibleAt < now + 48 h), failed and stuck payouts
 * needing attention, on-hold payouts by reason, the payout volume per day over the last
 * 30 days by outcome, and the newest open alerts. All queries run in one repeatable-read
 * snapshot, so the figures agree with each other. Sums are bigint in SQL and checked
 * to be safe integers before they become JS numbers.
 *
 * The totals per status and currency (and the failed totals, read from them) are the ones
 * the triggers on Payout keep in PayoutTotalDelta, written in the same transactions as the
 * payouts: exact in the snapshot, without reading every payout. Every other figure reads an
 * index over the few payouts it counts. Past COMPACT_ON_READ_ROWS delta rows, the read
 * compacts them afterwards.
 */
export async function getOverview(db: Db, now: Date): Promise<TOverview> {
  const windowEnd = new Date(now.getTime() + DUE_SOON_WINDOW_HOURS * 60 * 60 * 1000);
  const stuckBefore = new Date(now.getTime() - STUCK_PROCESSING_MS);
  const volume = volumeWindow(now);

  const [
    statusRows,
    dueRows,
    soonest,
    failedPayouts,
    holdRows,
    engineState,
    unsent,
    payoutsWaiting,
    stuckPayouts,
    stuckCount,
    volumeRows,
    newestAlerts,
    openAlertCount,
  ] = await db.$transaction(
    [
      // The totals kept by the triggers on Payout (a key whose payouts are all gone sums to zero).
      db.$queryRaw<TStatusRow[]>`
        SELECT t."status"::text AS "status", t."currency",
               SUM(t."count")::bigint AS "count", SUM(t."amount")::bigint AS "amount", COUNT(*)::bigint AS "rows"
        FROM "PayoutTotalDelta" t
        GROUP BY t."status", t."currency"
        HAVING SUM(t."count") <> 0 OR SUM(t."amount") <> 0`,
      db.$queryRaw<TTotalsRow[]>`
        SELECT p."currency", COUNT(*)::bigint AS "count", COALESCE(SUM(p."amount"), 0)::bigint AS "amount"
        FROM "Payout" p
        WHERE p."status" = 'scheduled' AND p."eligibleAt" >= ${now} AND p."eligibleAt" < ${windowEnd}
        GROUP BY p."currency"
        ORDER BY p."currency"`,
      db.payout.findMany({
        where: { status: "scheduled", eligibleAt: { gte: now, lt: windowEnd } },
        orderBy: [{ eligibleAt: "asc" }, { id: "asc" }],
        take: DUE_SOON_LIST_LIMIT,
        select: {
          id: true,
          amount: true,
          currency: true,
          eligibleAt: true,
          provider: { select: { id: true, name: true } },
          booking: { select: { externalId: true } },
        },
      }),
      db.payout.findMany({
        where: { status: "failed" },
        orderBy: [{ updatedAt: "desc" }, { id: "desc" }],
        take: FAILED_LIST_LIMIT,
        select: {
          id: true,
          amount: true,
          currency: true,
          attempts: true,
          lastError: true,
          updatedAt: true,
          provider: { select: { id: true, name: true } },
          booking: { select: { externalId: true } },
        },
      }),
      db.$queryRaw<THoldRow[]>`
        SELECT p."holdReason"::text AS "reason", COUNT(*)::bigint AS "count"
        FROM "Payout" p
        WHERE p."status" = 'on_hold'
        GROUP BY p."holdReason"`,
      db.systemState.findUnique({ where: { key: ENGINE_STATE_KEY } }),
      db.outboxEvent.aggregate({ where: { sentAt: null }, _count: { _all: true }, _min: { createdAt: true } }),
      db.payout.count({ where: { status: "scheduled", eligibleAt: { lte: now } } }),
      db.payout.findMany({
        where: { status: "processing", processingStartedAt: { lt: stuckBefore } },
        orderBy: [{ processingStartedAt: "asc" }, { id: "asc" }],
        take: STUCK_LIST_LIMIT,
        select: {
          id: true,
          amount: true,
          currency: true,
          attempts: true,
          processingStartedAt: true,
          provider: { select: { id: true, name: true } },
          booking: { select: { externalId: true } },
        },
      }),
      db.payout.count({ where: { status: "processing", processingStartedAt: { lt: stuckBefore } } }),
      db.$queryRaw<TVolumeRow[]>`
        -- Grouped by the day as a timestamp, formatted once per group (not once per row).
        SELECT d."outcome", d."currency", to_char(d."day", 'YYYY-MM-DD') AS "day", d."count", d."amount"
        FROM (
          SELECT v."outcome", v."currency", date_trunc('day', v."at" AT TIME ZONE 'UTC') AS "day",
                 COUNT(*)::bigint AS "count", COALESCE(SUM(v."amount"), 0)::bigint AS "amount"
          FROM (
            SELECT 'transferred' AS "outcome", p."currency", p."amount", p."transferredAt" AS "at"
            FROM "Payout" p
            WHERE p."transferredAt" >= ${volume.start} AND p."transferredAt" < ${volume.end}
            UNION ALL
            SELECT 'reversed', r."currency", r."amount", r."updatedAt"
            FROM "TransferReversal" r
            WHERE r."status" = 'succeeded' AND r."updatedAt" >= ${volume.start} AND r."updatedAt" < ${volume.end}
            UNION ALL
            SELECT p."status"::text, p."currency", p."amount", p."updatedAt"
            FROM "Payout" p
            WHERE p."status" IN ('failed', 'cancelled') AND p."updatedAt" >= ${volume.start} AND p."updatedAt" < ${volume.end}
          ) v
          GROUP BY 1, 2, 3
        ) d`,
      db.alert.findMany({
        where: { acknowledgedAt: null },
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: NEWEST_ALERTS_LIMIT,
        select: { id: true, kind: true, severity: true, title: true, message: true, payoutId: true, createdAt: true },
      }),
      db.alert.count({ where: { acknowledgedAt: null } }),
    ],
    { isolationLevel: "RepeatableRead" },
  );

  const unknownStatus = statusRows.find((row) => !isPayoutStatus(row.status));
  if (unknownStatus) throw new Error(`Unknown payout status in the database: ${unknownStatus.status}`);
  const impossible = statusRows.find((row) => row.count <= 0n || row.amount < 0n);
  if (impossible) {
    throw new Error(
      `The kept payout totals are wrong: ${impossible.status} ${impossible.currency} counts ${impossible.count} payouts of ${impossible.amount}.`,
    );
  }
  if (statusRows.reduce((sum, row) => sum + row.rows, 0n) > COMPACT_ON_READ_ROWS) {
    // The figures read are exact either way; a compaction that fails is left to the sweep's.
    await compactPayoutTotals(db).catch((error: unknown) => console.error("overview: could not compact the payout totals", error));
  }
  const unknownReason = holdRows.find((row) => row.reason !== null && !isHoldReason(row.reason));
  if (unknownReason) throw new Error(`Unknown hold reason in the database: ${unknownReason.reason}`);

  const currencies = [...new Set(statusRows.map((row) => row.currency))].sort();
  const byStatus: TStatusSummary[] = STATUSES.map((status) => {
    const totals = currencies.map((currency) => {
      const row = statusRows.find((r) => r.status === status && r.currency === currency);
      return row ? toTotal(row) : { currency, count: 0, amount: 0 };
    });
    return { status, count: totals.reduce((sum, t) => sum + t.count, 0), totals };
  });

  const failedSummary = byStatus.find((s) => s.status === "failed");
  const failedTotals = (failedSummary?.totals ?? []).filter((t) => t.count > 0);

  const dueTotals = dueRows.map(toTotal);

  const holdCount = (reason: HoldReason | null) =>
    toSafeNumber(holdRows.find((row) => row.reason === reason)?.count ?? 0, `On-hold count for ${reason ?? "no reason"}`);
  const byReason: THoldReasonCount[] = HOLD_REASONS.map((reason) => ({ reason, count: holdCount(reason) }));
  if (holdRows.some((row) => row.reason === null)) byReason.push({ reason: null, count: holdCount(null) });

  const state = engineState?.value as Partial<TEngineState> | undefined;
  const engine: TEngineStatus = {
    reachable: state?.reachable ?? null,
    checkedAt: state?.checkedAt ?? null,
    lastOkAt: state?.lastOkAt ?? null,
    lastError: state?.lastError ?? null,
    unsentEvents: unsent._count._all,
    oldestUnsentAt: unsent._min.createdAt?.toISOString() ?? null,
    payoutsWaiting,
  };

  return {
    generatedAt: now.toISOString(),
    engine,
    currencies,
    byStatus,
    dueSoon: {
      windowStart: now.toISOString(),
      windowEnd: windowEnd.toISOString(),
      count: dueTotals.reduce((sum, t) => sum + t.count, 0),
      totals: dueTotals,
      soonest: soonest.map((p) => ({
        ...payoutRow(p),
        eligibleAt: p.eligibleAt.toISOString(),
      })),
    },
    failed: {
      count: failedTotals.reduce((sum, t) => sum + t.count, 0),
      totals: failedTotals,
      payouts: failedPayouts.map((p) => ({
        ...payoutRow(p),
        attempts: p.attempts,
        lastError: p.lastError,
        updatedAt: p.updatedAt.toISOString(),
      })),
    },
    onHold: {
      count: byReason.reduce((sum, r) => sum + r.count, 0),
      byReason,
    },
    stuck: {
      thresholdMinutes: Math.round(STUCK_PROCESSING_MS / 60_000),
      count: stuckCount,
      payouts: stuckPayouts.map((p) => ({
        ...payoutRow(p),
        attempts: p.attempts,
        // The filter guarantees it is set.
        processingStartedAt: (p.processingStartedAt ?? stuckBefore).toISOString(),
      })),
    },
    volume: { days: volume.days, series: toVolumeSeries(volumeRows, volume.days) },
    alerts: {
      openCount: openAlertCount,
      newest: newestAlerts.map((a) => ({ ...a, createdAt: a.createdAt.toISOString() })),
    },
  };
}
