"use client";

import { useRef, useState } from "react";
import { toast } from "sonner";

import { Card } from "@/components/ui/card";
import { DateTime } from "@/components/ui/date-time";
import { Money } from "@/components/ui/money";
import { ReasonDialog } from "@/components/ui/reason-dialog";
import { Badge, type TBadgeTone } from "@/components/ui/status-badge";
import { formatMoney } from "@/lib/money/format-money";
import type { TApprovalState, TApprovalView, TPayoutDetail } from "@/lib/payouts/payout-detail-types";

import { returnFocus } from "./return-focus";
import { useApprovalDecision } from "./use-payout-mutations";

const STATE_LABELS: Record<TApprovalState, string> = {
  pending: "Awaiting second approval",
  approved: "Approved",
  rejected: "Rejected",
  withdrawn: "Withdrawn",
  expired: "Expired",
};

const STATE_TONES: Record<TApprovalState, TBadgeTone> = {
  pending: "warning",
  approved: "success",
  rejected: "danger",
  withdrawn: "neutral",
  expired: "neutral",
};

type TDecision = { approval: TApprovalView; kind: "approve" | "reject" | "withdraw" };

function person(user: { name: string; email: string }) {
  return `${user.name} <${user.email}>`;
}

function ApprovalItem({ approval, onDecide }: { approval: TApprovalView; onDecide: (d: TDecision, opener: HTMLButtonElement) => void }) {
  const active = approval.status === "pending";
  return (
    <li className="px-4 py-4 sm:px-5" data-testid="approval" data-state={approval.state}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p className="text-sm font-medium text-gray-900">
          Force release of <Money amount={approval.amount} currency={approval.currency} />
        </p>
        <Badge tone={STATE_TONES[approval.state]}>{STATE_LABELS[approval.state]}</Badge>
      </div>
      <p className="mt-1 text-xs text-gray-500">
        Requested by <span className="font-medium text-gray-700">{person(approval.requestedBy)}</span> ·{" "}
        <DateTime value={approval.createdAt} />
      </p>
      <p className="mt-1.5 rounded-md bg-gray-50 px-2.5 py-1.5 text-sm break-words text-gray-700">
        <span className="sr-only">Reason: </span>
        {approval.reason}
      </p>
      {approval.decidedAt && approval.status !== "pending" ? (
        <p className="mt-2 text-xs text-gray-500">
          {STATE_LABELS[approval.state]}
          {approval.decidedBy ? (
            <>
              {" "}
              by <span className="font-medium text-gray-700">{person(approval.decidedBy)}</span>
            </>
          ) : null}{" "}
          · <DateTime value={approval.decidedAt} />
          {approval.decisionNote ? <span className="mt-1 block text-sm break-words text-gray-700">{approval.decisionNote}</span> : null}
        </p>
      ) : null}
      {active && approval.expiredBecause ? (
        <p className="mt-2 text-sm text-gray-600">{approval.expiredBecause} It can no longer be approved.</p>
      ) : null}
      {active && approval.approveBlockedReason && !approval.expiredBecause ? (
        <p className="mt-2 text-sm text-gray-600" data-testid="approve-blocked">
          {approval.approveBlockedReason}
        </p>
      ) : null}
      {active && !approval.canApprove && !approval.canReject && !approval.canWithdraw && !approval.approveBlockedReason ? (
        <p className="mt-2 text-sm text-gray-600">An admin other than the requester must approve it.</p>
      ) : null}
      {approval.canApprove || approval.canReject || approval.canWithdraw ? (
        <div className="mt-3 flex flex-wrap gap-2">
          {approval.canApprove ? (
            <button
              type="button"
              onClick={(event) => onDecide({ approval, kind: "approve" }, event.currentTarget)}
              className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white shadow-xs hover:bg-indigo-500"
            >
              Approve and release
            </button>
          ) : null}
          {approval.canReject ? (
            <button
              type="button"
              onClick={(event) => onDecide({ approval, kind: "reject" }, event.currentTarget)}
              className="rounded-md border border-gray-300 bg-white px-3 py-1.5 text-sm font-medium text-gray-700 shadow-xs hover:bg-gray-50"
            >
              Reject
            </button>
          ) : null}
          {approval.canWithdraw ? (
            <button
              type="button"
              onClick={(event) => onDecide({ approval, kind: "withdraw" }, event.currentTarget)}
              className="rounded-md border border-gray-300 bg-white px-3 py-1.5 text-sm font-medium text-gray-700 shadow-xs hover:bg-gray-50"
            >
              Withdraw request
            </button>
          ) : null}
        </div>
      ) : null}
    </li>
  );
}

function dialogFor({ approval, kind }: TDecision) {
  const amount = formatMoney(approval.amount, approval.currency);
  const requested = (
    <p>
      {person(approval.requestedBy)} asked: <q className="break-words">{approval.reason}</q>
    </p>
  );
  switch (kind) {
    case "approve":
      return {
        title: `Approve the force release of ${amount}?`,
        description: (
          <>
            {requested}
            <p className="mt-2">The payout is force released now, with you as the approving admin in the audit log.</p>
          </>
        ),
        confirmLabel: "Approve and release",
        destructive: false,
        done: "Approved; the payout was force released.",
      };
    case "reject":
      return {
        title: `Reject the force release of ${amount}?`,
        description: (
          <>
            {requested}
            <p className="mt-2">The payout stays as it is.</p>
          </>
        ),
        confirmLabel: "Reject request",
        destructive: true,
        done: "Request rejected.",
      };
    case "withdraw":
      return {
        title: "Withdraw your force release request?",
        description: <p>The payout stays as it is.</p>,
        confirmLabel: "Withdraw request",
        destructive: false,
        done: "Request withdrawn.",
      };
  }
}

/** Four-eyes requests on this payout: the pending one first, with approve / reject / withdraw as the viewer may. */
export function ApprovalsPanel({ detail }: { detail: TPayoutDetail }) {
  const [decision, setDecision] = useState<TDecision | null>(null);
  const opener = useRef<HTMLButtonElement | null>(null);
  const mutation = useApprovalDecision(detail.payout.id);
  if (detail.approvals.length === 0) return null;
  const pending = detail.approvals.some((a) => a.state === "pending");
  const dialog = decision ? dialogFor(decision) : null;

  return (
    <Card
      title="Four-eyes approval"
      description={`Force releases of ${formatMoney(detail.fourEyes.thresholdMinor, detail.payout.currency)} or more need a second admin. The requester cannot approve their own request.`}
      className={pending ? "border-amber-300" : ""}
      aria-label="Four-eyes approval"
      data-testid="approvals"
    >
      <ul className="divide-y divide-gray-100">
        {detail.approvals.map((approval) => (
          <ApprovalItem
            key={approval.id}
            approval={approval}
            onDecide={(next, button) => {
              opener.current = button;
              setDecision(next);
            }}
          />
        ))}
      </ul>
      {decision && dialog ? (
        <ReasonDialog
          open
          onOpenChange={(next) => {
            if (next) return;
            setDecision(null);
            returnFocus(opener.current);
          }}
          title={dialog.title}
          description={dialog.description}
          confirmLabel={dialog.confirmLabel}
          destructive={dialog.destructive}
          onConfirm={async (reason) => {
            await mutation.mutateAsync({
              approvalId: decision.approval.id,
              decision: decision.kind === "approve" ? "approve" : "reject",
              reason,
            });
            toast.success(dialog.done);
          }}
        />
      ) : null}
    </Card>
  );
}
