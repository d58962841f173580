"use client";

import { useRef, useState } from "react";
import { toast } from "sonner";

import { Card } from "@/components/ui/card";
import { DateTime } from "@/components/ui/date-time";
import { Money } from "@/components/ui/money";
import { ReasonDialog } from "@/components/ui/reason-dialog";
import { Badge, type TBadgeTone } from "@/components/ui/status-badge";
import { formatMoney } from "@/lib/money/format-money";
import type { TDebtView, TPayoutDetail } from "@/lib/payouts/payout-detail-types";

import { returnFocus } from "./return-focus";
import { useDebtClosing } from "./use-payout-mutations";

const STATUS: Record<TDebtView["status"], { label: string; tone: TBadgeTone }> = {
  open: { label: "Open", tone: "danger" },
  settled: { label: "Recovered", tone: "success" },
  waived: { label: "Waived", tone: "neutral" },
  written_off: { label: "Written off", tone: "neutral" },
};

const CLOSING_WORDS = { waive: "Waive", write_off: "Write off" } as const;

type TChoice =
  { kind: "close"; debt: TDebtView; closing: "waive" | "write_off" } | { kind: "decide"; debt: TDebtView; decision: "approve" | "reject" };

const BUTTON = "rounded-md border border-gray-300 bg-white px-3 py-1.5 text-sm font-medium text-gray-700 shadow-xs hover:bg-gray-50";

function DebtItem({ debt, onChoose }: { debt: TDebtView; onChoose: (choice: TChoice, opener: HTMLButtonElement) => void }) {
  const status = STATUS[debt.status];
  return (
    <li className="px-4 py-4 sm:px-5" data-testid="provider-debt" data-status={debt.status}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p className="text-sm font-medium text-gray-900">
          Owes <Money amount={debt.amount} currency={debt.currency} />
        </p>
        <Badge tone={status.tone}>{status.label}</Badge>
      </div>
      <p className="mt-1 text-xs text-gray-500">
        Recorded <DateTime value={debt.createdAt} /> · {debt.reason}
      </p>
      <dl className="mt-2 grid grid-cols-2 gap-x-4 text-sm text-gray-700">
        <dt>Recovered from later payouts</dt>
        <dd className="text-right tabular-nums">
          <Money amount={debt.recoveredAmount} currency={debt.currency} />
        </dd>
        <dt className="font-medium">Left</dt>
        <dd className="text-right font-medium tabular-nums" data-testid="debt-left">
          <Money amount={debt.status === "open" ? debt.left : 0} currency={debt.currency} />
        </dd>
      </dl>
      {debt.closedReason ? <p className="mt-2 text-sm break-words text-gray-600">Reason: {debt.closedReason}</p> : null}
      {debt.pendingClosing ? (
        <p className="mt-2 rounded-md bg-amber-50 px-2.5 py-1.5 text-sm break-words text-amber-900">
          {CLOSING_WORDS[debt.pendingClosing.closing]} of {formatMoney(debt.pendingClosing.amount, debt.currency)} requested by{" "}
          {debt.pendingClosing.requestedBy}: <q>{debt.pendingClosing.reason}</q>. A second admin must approve it.
        </p>
      ) : null}
      {debt.canClose || (debt.pendingClosing && debt.canApprove) ? (
        <div className="mt-3 flex flex-wrap gap-2">
          {debt.canClose ? (
            <>
              <button
                type="button"
                className={BUTTON}
                onClick={(e) => onChoose({ kind: "close", debt, closing: "waive" }, e.currentTarget)}
              >
                Waive…
              </button>
              <button
                type="button"
                className={BUTTON}
                onClick={(e) => onChoose({ kind: "close", debt, closing: "write_off" }, e.currentTarget)}
              >
                Write off…
              </button>
            </>
          ) : null}
          {debt.pendingClosing && debt.canApprove ? (
            <>
              <button
                type="button"
                className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white shadow-xs hover:bg-indigo-500"
                onClick={(e) => onChoose({ kind: "decide", debt, decision: "approve" }, e.currentTarget)}
              >
                Approve
              </button>
              <button
                type="button"
                className={BUTTON}
                onClick={(e) => onChoose({ kind: "decide", debt, decision: "reject" }, e.currentTarget)}
              >
                Reject
              </button>
            </>
          ) : null}
        </div>
      ) : null}
    </li>
  );
}

function dialogFor(choice: TChoice) {
  const left = formatMoney(choice.debt.left, choice.debt.currency);
  if (choice.kind === "close") {
    const word = choice.closing === "waive" ? "waive" : "write off";
    const fourEyes = choice.debt.left >= choice.debt.fourEyesThresholdMinor;
    return {
      title: `${CLOSING_WORDS[choice.closing]} the ${left} left of this debt?`,
      description: (
        <p>
          {choice.closing === "waive"
            ? "The provider no longer owes it; it is not recovered from their next payouts."
            : "It is not collectable; it is not recovered from their next payouts."}{" "}
          {fourEyes
            ? `At ${formatMoney(choice.debt.fourEyesThresholdMinor, choice.debt.currency)} or more a second admin must approve it.`
            : ""}
        </p>
      ),
      confirmLabel: fourEyes ? `Request to ${word}` : CLOSING_WORDS[choice.closing],
      done: fourEyes ? "Requested; a second admin must approve it." : `Debt ${choice.closing === "waive" ? "waived" : "written off"}.`,
    };
  }
  return {
    title: choice.decision === "approve" ? `Approve closing the ${left} left of this debt?` : "Reject this request?",
    description: <p>{choice.decision === "approve" ? "The debt closes now, with you as the approving admin." : "The debt stays open."}</p>,
    confirmLabel: choice.decision === "approve" ? "Approve" : "Reject request",
    done: choice.decision === "approve" ? "Approved; the debt is closed." : "Request rejected.",
  };
}

/** The debts this payout's refused reversals made: what recoveries took, what is left, and waive / write off for admins. */
export function DebtsPanel({ detail }: { detail: TPayoutDetail }) {
  const [choice, setChoice] = useState<TChoice | null>(null);
  const opener = useRef<HTMLButtonElement | null>(null);
  const mutation = useDebtClosing(detail.payout.id);
  if (detail.debts.length === 0) return null;
  const dialog = choice ? dialogFor(choice) : null;
  return (
    <Card
      title="Provider debts"
      description="Reversals Stripe refused: the provider owes them, and they are recovered from the provider's next payouts in the same currency."
      aria-label="Provider debts"
      data-testid="provider-debts"
    >
      <ul className="divide-y divide-gray-100">
        {detail.debts.map((debt) => (
          <DebtItem
            key={debt.id}
            debt={debt}
            onChoose={(next, button) => {
              opener.current = button;
              setChoice(next);
            }}
          />
        ))}
      </ul>
      {choice && dialog ? (
        <ReasonDialog
          open
          onOpenChange={(next) => {
            if (next) return;
            setChoice(null);
            returnFocus(opener.current);
          }}
          title={dialog.title}
          description={dialog.description}
          confirmLabel={dialog.confirmLabel}
          destructive={choice.kind === "close"}
          onConfirm={async (reason) => {
            await mutation.mutateAsync(
              choice.kind === "close"
                ? { kind: "close", debtId: choice.debt.id, closing: choice.closing, reason }
                : { kind: "decide", requestId: choice.debt.pendingClosing?.id ?? "", decision: choice.decision, reason },
            );
            toast.success(dialog.done);
          }}
        />
      ) : null}
    </Card>
  );
}
