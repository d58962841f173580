import "server-only";

import type { Prisma } from "@/generated/prisma/client";
import type { HoldReason, PayoutStatus } from "@/generated/prisma/enums";
import type { Db } from "@/lib/db";
import type { TNumberedPage } from "@/lib/list/numbered-page";
import type { TDisputeView } from "@/lib/payouts/payout-detail-types";

import { DISPUTE_PAGE_SIZE, type TDisputeFilter } from "./list-disputes-filter";

const select = {
  id: true,
  externalId: true,
  stripeDisputeId: true,
  scope: true,
  reason: true,
  status: true,
  outcome: true,
  refundedAmount: true,
  currency: true,
  openedAt: true,
  resolvedAt: true,
  openedAfterTransfer: true,
  booking: {
    select: {
      externalId: true,
      provider: { select: { id: true, name: true } },
      payout: { select: { id: true, status: true, amount: true, currency: true, holdReason: true } },
    },
  },
} as const satisfies Prisma.DisputeSelect;

/** The dispute's own fields as the payout detail shows them, with its booking, provider and payout. */
export type TDisputeListItem = Omit<TDisputeView, "refundAppliedAt" | "refundCountedAfterTransfer"> & {
  bookingExternalId: string;
  provider: { id: string; name: string };
  /** The payout the dispute holds (or held); null when the booking has none yet. */
  payout: { id: string; status: PayoutStatus; amount: number; currency: string; holdReason: HoldReason | null } | null;
};

export type TDisputeList = TNumberedPage<TDisputeListItem> & { counts: { open: number; resolved: number } };

/** A row as the select above reads it. */
type TRow = Prisma.DisputeGetPayload<{ select: typeof select }>;

function toItem(row: TRow): TDisputeListItem {
  return {
    id: row.id,
    externalId: row.externalId,
    stripeDisputeId: row.stripeDisputeId,
    scope: row.scope,
    reason: row.reason,
    status: row.status,
    outcome: row.outcome,
    refundedAmount: row.refundedAmount,
    currency: row.currency,
    openedAt: row.openedAt.toISOString(),
    resolvedAt: row.resolvedAt?.toISOString() ?? null,
    openedAfterTransfer: row.openedAfterTransfer,
    bookingExternalId: row.booking.externalId,
    provider: row.booking.provider,
    payout: row.booking.payout,
  };
}

const openOrder = [{ openedAt: "asc" }, { id: "asc" }] as const;
const resolvedOrder = [{ resolvedAt: { sort: "desc", nulls: "last" } }, { id: "desc" }] as const;

/**
 * One page of disputes. Open ones first, the longest-open first (they hold money the
 * longest); then resolved ones, the most recently resolved first. Each with the payout
 * its booking has. Offset pagination over that order.
 */
export async function listDisputes(db: Db, filter: TDisputeFilter, pageSize = DISPUTE_PAGE_SIZE): Promise<TDisputeList> {
  const [open, resolved] = await db.$transaction([
    db.dispute.count({ where: { status: "open" } }),
    db.dispute.count({ where: { status: "resolved" } }),
  ]);
  const offset = (filter.page - 1) * pageSize;
  const openCount = filter.status === "resolved" ? 0 : open;
  const resolvedCount = filter.status === "open" ? 0 : resolved;

  const rows: TRow[] = [];
  if (offset < openCount) {
    rows.push(...(await db.dispute.findMany({ where: { status: "open" }, orderBy: [...openOrder], skip: offset, take: pageSize, select })));
  }
  const remaining = pageSize - rows.length;
  if (remaining > 0 && resolvedCount > 0) {
    const skip = Math.max(0, offset - openCount);
    if (skip < resolvedCount) {
      rows.push(
        ...(await db.dispute.findMany({ where: { status: "resolved" }, orderBy: [...resolvedOrder], skip, take: remaining, select })),
      );
    }
  }
  return {
    items: rows.map(toItem),
    total: openCount + resolvedCount,
    page: filter.page,
    pageSize,
    counts: { open, resolved },
  };
}
