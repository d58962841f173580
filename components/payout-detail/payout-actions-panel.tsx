"use client";

import { useId, useRef, useState } from "react";
import { toast } from "sonner";

import { Card } from "@/components/ui/card";
import { formatDateTimeUtc } from "@/components/ui/date-time";
import { ReasonDialog } from "@/components/ui/reason-dialog";
import { formatMoney } from "@/lib/money/format-money";
import type { TPayoutAction } from "@/lib/payouts/payout-actions";
import type { TPayoutActionResponse } from "@/lib/payouts/payout-detail-query";
import type { TPayoutDetail } from "@/lib/payouts/payout-detail-types";

import { returnFocus } from "./return-focus";
import { usePayoutAction } from "./use-payout-mutations";

type TDialogText = { title: string; description: React.ReactNode; confirmLabel: string; destructive?: boolean };

function dialogText(action: TPayoutAction, detail: TPayoutDetail): TDialogText {
  const { payout, fourEyes } = detail;
  const amount = formatMoney(payout.amount, payout.currency);
  const due = Date.parse(payout.eligibleAt) <= Date.parse(detail.generatedAt);
  switch (action) {
    case "hold":
      return {
        title: `Hold ${amount}?`,
        description: "The payout will not be transferred until someone releases it.",
        confirmLabel: "Hold payout",
      };
    case "release":
      return {
        title: `Release ${amount}?`,
        description: due
          ? "The payout goes back on the schedule. It is already due, so the transfer is requested right away."
          : `The payout goes back on the schedule and is transferred when due (${formatDateTimeUtc(payout.eligibleAt)}).`,
        confirmLabel: "Release payout",
      };
    case "retry":
      return {
        title: `Retry ${amount}?`,
        description: "The failed payout goes back on the schedule with a fresh set of transfer attempts.",
        confirmLabel: "Retry payout",
      };
    case "force_release":
      return fourEyes.required
        ? {
            title: `Request a force release of ${amount}?`,
            description: (
              <>
                <p>Force release skips the waiting period and requests the transfer now.</p>
                <p className="mt-2 rounded-md bg-amber-50 px-2.5 py-1.5 text-amber-900">
                  This amount is at or above {formatMoney(fourEyes.thresholdMinor, payout.currency)}, so a second admin must approve it.
                  Nothing moves until they do.
                </p>
              </>
            ),
            confirmLabel: "Request approval",
          }
        : {
            title: `Force release ${amount}?`,
            description: "Skips the waiting period: the transfer to the provider is requested now.",
            confirmLabel: "Force release",
          };
    case "cancel":
      return {
        title: `Cancel this payout of ${amount}?`,
        description: "The payout will never be paid. This cannot be undone.",
        confirmLabel: "Cancel payout",
        destructive: true,
      };
  }
}

function successMessage(action: TPayoutAction, result: TPayoutActionResponse): string {
  if (result.outcome === "approval_requested") return "Force release requested. A second admin must approve it.";
  switch (action) {
    case "hold":
      return "Payout put on hold.";
    case "release":
      return result.transferRequested ? "Payout released; the transfer was requested." : "Payout released; it is transferred when due.";
    case "retry":
      return "Payout back on the schedule.";
    case "force_release":
      return "Payout force released; the transfer was requested.";
    case "cancel":
      return "Payout cancelled.";
  }
}

function RoleNote({ role }: { role: TPayoutDetail["viewer"]["role"] }) {
  return (
    <p className="px-4 py-4 text-sm text-gray-600 sm:px-5" data-testid="no-actions">
      {role === "viewer"
        ? "Your role (viewer) can read payouts but not change them. Operators hold, release and retry; admins also force release and cancel."
        : "No actions for your role."}
    </p>
  );
}

/** The actions the viewer's role allows: each one opens a dialog that needs a reason; disallowed ones say why. */
export function PayoutActionsPanel({ detail }: { detail: TPayoutDetail }) {
  const [open, setOpen] = useState<TPayoutAction | null>(null);
  const opener = useRef<HTMLButtonElement | null>(null);
  const mutation = usePayoutAction(detail.payout.id);
  const baseId = useId();
  const current = open ? dialogText(open, detail) : null;

  async function confirm(reason: string) {
    if (!open) return;
    const action = open;
    const result = await mutation.mutateAsync({ action, reason, expectedVersion: detail.payout.version });
    toast.success(successMessage(action, result));
  }

  const disabledReasons = new Set(detail.actions.map((a) => a.disabledReason));
  // When nothing is allowed for one reason (a settled payout), say it once instead of under every button.
  const sharedReason = !detail.actions.some((a) => a.allowed) && disabledReasons.size === 1 ? ([...disabledReasons][0] ?? null) : null;
  const sharedReasonId = `${baseId}-why`;

  return (
    <Card title="Actions" description={detail.actions.length > 0 ? "Each action asks for a reason, kept in the audit log." : undefined}>
      {detail.actions.length === 0 ? (
        <RoleNote role={detail.viewer.role} />
      ) : (
        <div className="px-4 py-4 sm:px-5">
          {sharedReason ? (
            <p id={sharedReasonId} className="mb-3 text-sm text-gray-600" data-testid="actions-unavailable">
              {sharedReason}
            </p>
          ) : null}
          <ul className={sharedReason ? "grid grid-cols-2 gap-2" : "space-y-3"} data-testid="payout-actions">
            {detail.actions.map((a) => {
              const reasonId = sharedReason ? sharedReasonId : `${baseId}-${a.action}-why`;
              const destructive = a.action === "cancel";
              return (
                <li key={a.action}>
                  <button
                    type="button"
                    aria-disabled={a.allowed ? undefined : true}
                    aria-describedby={a.allowed ? undefined : reasonId}
                    data-action={a.action}
                    onClick={(event) => {
                      if (!a.allowed) return;
                      opener.current = event.currentTarget;
                      setOpen(a.action);
                    }}
                    className={`w-full rounded-md border px-3 py-2 text-left text-sm font-medium shadow-xs transition-colors ${
                      a.allowed
                        ? destructive
                          ? "border-red-200 bg-white text-red-700 hover:bg-red-50"
                          : "border-gray-300 bg-white text-gray-800 hover:bg-gray-50"
                        : "cursor-not-allowed border-gray-200 bg-gray-50 text-gray-400 shadow-none"
                    }`}
                  >
                    {a.label}
                    {a.action === "force_release" && detail.fourEyes.required && a.allowed ? (
                      <span className="ml-2 text-xs font-normal text-gray-500">needs a second admin</span>
                    ) : null}
                  </button>
                  {a.disabledReason && !sharedReason ? (
                    <p id={reasonId} className="mt-1 text-xs text-gray-500">
                      {a.disabledReason}
                    </p>
                  ) : null}
                </li>
              );
            })}
          </ul>
        </div>
      )}
      {current ? (
        <ReasonDialog
          open
          onOpenChange={(next) => {
            if (next) return;
            setOpen(null);
            returnFocus(opener.current);
          }}
          title={current.title}
          description={current.description}
          confirmLabel={current.confirmLabel}
          destructive={current.destructive ?? false}
          onConfirm={confirm}
        />
      ) : null}
    </Card>
  );
}
