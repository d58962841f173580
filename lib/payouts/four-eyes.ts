// Four-eyes rules for force releases. Pure: no I/O, safe in the browser.
import type { PayoutStatus } from "@/generated/prisma/enums";
import { currencyMinorDigits, formatMoney } from "@/lib/money/format-money";

/** The one action that needs a second admin (PayoutApproval.action). */
export const FORCE_RELEASE_ACTION = "force_release";

/**
 * The configured threshold (FOUR_EYES_THRESHOLD, e.g. "1000.00") is held in hundredths of the
 * currency's main unit: 100000 = 1,000.00 "in the payout's currency". Currencies whose minor
 * unit is not a hundredth scale it: 1,000 JPY (1000 minor units), 1,000.000 KWD (1000000).
 * Rounds up, so a threshold never drops below what was configured.
 */
export function fourEyesThresholdFor(currency: string, configuredHundredths: number): number {
  const digits = currencyMinorDigits(currency);
  if (digits === 2) return configuredHundredths;
  if (digits > 2) return configuredHundredths * 10 ** (digits - 2);
  return Math.ceil(configuredHundredths / 10 ** (2 - digits));
}

/** A force release of `amount` (minor units of `currency`) needs a second admin at or above the threshold. */
export function needsSecondApproval(amount: number, currency: string, configuredHundredths: number): boolean {
  return amount >= fourEyesThresholdFor(currency, configuredHundredths);
}

/** What a request for approval was made against; the approval only runs if the payout still matches. */
export type TApprovalBasis = { status: PayoutStatus; amount: number; currency: string };

const STATUS_WORDS: Record<PayoutStatus, string> = {
  scheduled: "scheduled",
  on_hold: "on hold",
  processing: "processing",
  transferred: "transferred",
  partially_reversed: "partially reversed",
  reversed: "reversed",
  failed: "failed",
  cancelled: "cancelled",
  applied_to_debt: "applied to debt",
};

/**
 * Why a pending request no longer matches the payout (its status or amount changed since it
 * was made), or null when it still does.
 */
export function approvalMismatch(requested: TApprovalBasis, current: TApprovalBasis): string | null {
  const changes: string[] = [];
  if (requested.status !== current.status) {
    changes.push(`the payout is now ${STATUS_WORDS[current.status]} (it was ${STATUS_WORDS[requested.status]})`);
  }
  if (requested.amount !== current.amount || requested.currency !== current.currency) {
    changes.push(
      `the amount is now ${formatMoney(current.amount, current.currency)} (it was ${formatMoney(requested.amount, requested.currency)})`,
    );
  }
  return changes.length === 0 ? null : `Since the request, ${changes.join(" and ")}.`;
}

/** Audit actions of the four-eyes steps; entries point at the payout, with the approval id in `after`. */
export const APPROVAL_AUDIT_ACTIONS = {
  requested: "payout.force_release_requested",
  approved: "payout.force_release_approved",
  rejected: "payout.force_release_rejected",
  withdrawn: "payout.force_release_withdrawn",
  expired: "payout.force_release_expired",
} as const;

const PAYOUT_STATUSES: ReadonlySet<string> = new Set(Object.keys(STATUS_WORDS));

/**
 * The basis a request was made against, as its audit entry's `after` records it
 * (`{ approvalId, basis: { status, amount, currency } }`); null if the entry is not that shape.
 */
export function approvalBasisFromAudit(after: unknown, approvalId: string): TApprovalBasis | null {
  if (typeof after !== "object" || after === null) return null;
  const record = after as { approvalId?: unknown; basis?: { status?: unknown; amount?: unknown; currency?: unknown } };
  if (record.approvalId !== approvalId || typeof record.basis !== "object" || record.basis === null) return null;
  const { status, amount, currency } = record.basis;
  if (typeof status !== "string" || !PAYOUT_STATUSES.has(status) || typeof amount !== "number" || typeof currency !== "string") return null;
  return { status: status as PayoutStatus, amount, currency };
}
