import { formatDateTimeUtc } from "@/components/ui/date-time";
import { HOLD_REASON_LABELS } from "@/components/ui/labels";
import { formatMoney } from "@/lib/money/format-money";
import { PROCESSING_REFRESH_MS } from "@/lib/payouts/payout-detail-query";
import type { TPayoutDetail } from "@/lib/payouts/payout-detail-types";

const TONES = {
  info: "border-sky-200 bg-sky-50 text-sky-900",
  warning: "border-amber-200 bg-amber-50 text-amber-900",
  danger: "border-red-200 bg-red-50 text-red-900",
  neutral: "border-gray-200 bg-white text-gray-700",
  success: "border-emerald-200 bg-emerald-50 text-emerald-900",
} as const;

function Callout({ tone, title, children }: { tone: keyof typeof TONES; title: string; children?: React.ReactNode }) {
  return (
    <div role="status" className={`rounded-lg border px-4 py-3 text-sm ${TONES[tone]}`} data-testid="status-callout">
      <p className="font-medium">{title}</p>
      {children ? <div className="mt-0.5 break-words">{children}</div> : null}
    </div>
  );
}

/** One sentence on where the payout stands and what happens next. */
export function StatusCallout({ detail }: { detail: TPayoutDetail }) {
  const { payout } = detail;
  switch (payout.status) {
    case "processing":
      return (
        <Callout tone="info" title="Transfer in progress">
          Stripe is being asked to send the money. This page refreshes every {PROCESSING_REFRESH_MS / 1000} seconds until the transfer
          settles.
        </Callout>
      );
    case "on_hold":
      if (payout.holdReason === "awaiting_funds" && payout.fundsExpectedAt) {
        return (
          <Callout tone="warning" title={`Waiting for funds until ${formatDateTimeUtc(payout.fundsExpectedAt)}`}>
            Stripe refused the transfer because the platform&apos;s balance does not hold the money yet. No attempt was used; it is tried
            again when the funds are due
            {payout.fundsWaitingSince ? ` (waiting since ${formatDateTimeUtc(payout.fundsWaitingSince)})` : ""}.
          </Callout>
        );
      }
      return (
        <Callout tone="warning" title={`On hold: ${payout.holdReason ? HOLD_REASON_LABELS[payout.holdReason].toLowerCase() : "held"}`}>
          {payout.holdNote ?? "It is not transferred until the hold is released."}
        </Callout>
      );
    case "failed":
      return (
        <Callout tone="danger" title="The transfer failed">
          {payout.lastError ? <span className="font-mono text-xs">{payout.lastError}</span> : null}
          <span className="mt-1 block">Retry puts it back on the schedule with fresh attempts; cancel stops it for good.</span>
        </Callout>
      );
    case "cancelled":
      return (
        <Callout tone="neutral" title="Cancelled">
          {payout.cancelReason ? `Reason: ${payout.cancelReason}` : "This payout will never be paid."}
        </Callout>
      );
    case "transferred": {
      const bank = detail.transfers.find((t) => t.bankPayout)?.bankPayout ?? null;
      if (bank && (bank.status === "failed" || bank.status === "canceled")) {
        return (
          <Callout tone="danger" title="In the provider's Stripe balance; their bank payout failed">
            Bank payout {bank.stripePayoutId} of {formatMoney(bank.amount, bank.currency)}{" "}
            {bank.status === "failed" ? "failed" : "was cancelled"}
            {bank.failureCode ? `: ${bank.failureCode}` : ""}. The money is back in the provider&apos;s Stripe balance until they fix their
            bank details.
          </Callout>
        );
      }
      return payout.transferredAt ? (
        <Callout tone="success" title={`Transferred ${formatDateTimeUtc(payout.transferredAt)}`}>
          {bank?.status === "paid" ? `Paid out to the provider's bank (${bank.stripePayoutId}).` : null}
        </Callout>
      ) : null;
    }
    case "applied_to_debt":
      return (
        <Callout tone="success" title="Applied to the provider's debt">
          The provider&apos;s open debts took all of it ({formatMoney(payout.debtRecoveredAmount, payout.currency)}): nothing was
          transferred to Stripe, and the debts are that much smaller.
        </Callout>
      );
    case "partially_reversed":
    case "reversed":
      return (
        <Callout tone="warning" title={payout.status === "reversed" ? "Transfer reversed" : "Transfer partially reversed"}>
          {formatMoney(payout.reversedAmount - payout.repaidAmount, payout.currency)} of {formatMoney(payout.amount, payout.currency)} was
          taken back after refunds or disputes
          {payout.repaidAmount > 0 ? ` (${formatMoney(payout.repaidAmount, payout.currency)} given back after a refund failed)` : ""}.
        </Callout>
      );
    case "scheduled": {
      const approved = detail.fourEyes.approvedRelease;
      return approved ? (
        <Callout tone="info" title={`Release approved by ${approved.approvedBy} at ${formatDateTimeUtc(approved.approvedAt)}`}>
          Waiting for the transfer to run: the workflow engine picks it up next (the reconciliation sweep requests it again if it does not).
          It cannot be force released again meanwhile.
        </Callout>
      ) : null;
    }
  }
}
