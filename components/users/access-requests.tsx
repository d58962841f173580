"use client";

import { useState } from "react";

import { DateTime } from "@/components/ui/date-time";
import { ReasonDialog } from "@/components/ui/reason-dialog";
import { Badge } from "@/components/ui/status-badge";
import type { TAdminAccessRequestItem } from "@/lib/users/types";

const KIND_WORDS: Record<TAdminAccessRequestItem["kind"], string> = {
  create: "create an admin account for",
  promote: "give the admin role to",
  enable: "enable the admin account of",
};

const buttonClass =
  "rounded-md border border-gray-300 bg-white px-2.5 py-1 text-xs font-medium whitespace-nowrap text-gray-700 shadow-xs hover:bg-gray-50";

type TDecision = { request: TAdminAccessRequestItem; decision: "approve" | "reject" };

/**
 * Admin access waiting for a second admin (four-eyes): another admin approves or rejects it; the
 * requester sees that it waits for another admin and may withdraw it.
 */
export function AccessRequests({
  requests,
  currentUserId,
  onDecide,
}: {
  requests: TAdminAccessRequestItem[];
  currentUserId: string;
  onDecide: (requestId: string, decision: "approve" | "reject", reason: string) => Promise<void>;
}) {
  const [deciding, setDeciding] = useState<TDecision | null>(null);
  if (requests.length === 0) return null;
  const mine = deciding?.request.requestedBy.id === currentUserId;

  return (
    <section aria-labelledby="access-requests-title" className="rounded-lg border border-amber-200 bg-amber-50/60 p-4">
      <h2 id="access-requests-title" className="text-sm font-semibold text-gray-900">
        Admin access awaiting a second admin
      </h2>
      <p className="mt-0.5 text-xs text-gray-600">
        Giving someone admin access needs the approval of a different admin, who was one before it was asked for and who is not linked to
        the requester by an earlier grant. Nothing changes until then.
      </p>
      <ul className="mt-3 space-y-2">
        {requests.map((r) => {
          const own = r.requestedBy.id === currentUserId;
          return (
            <li
              key={r.id}
              aria-label={`Admin access request for ${r.name}`}
              className="flex flex-wrap items-start justify-between gap-3 rounded-md border border-gray-200 bg-white px-3 py-2 sm:flex-nowrap"
            >
              <div className="min-w-0 text-sm text-gray-800">
                <p className="break-words">
                  <span className="font-medium">{own ? "You" : r.requestedBy.name}</span> asked to {KIND_WORDS[r.kind]}{" "}
                  <span className="font-medium">{r.name}</span> <span className="text-gray-500">({r.email})</span>
                </p>
                {r.reason ? <p className="mt-0.5 text-xs break-words text-gray-600">Reason: “{r.reason}”</p> : null}
                <p className="mt-0.5 text-xs text-gray-500">
                  <DateTime value={r.createdAt} />
                </p>
              </div>
              <div className="flex flex-wrap items-center justify-end gap-2">
                {own ? (
                  <>
                    <Badge tone="warning">Waiting for another admin&apos;s approval</Badge>
                    <button type="button" className={buttonClass} onClick={() => setDeciding({ request: r, decision: "reject" })}>
                      Withdraw
                    </button>
                  </>
                ) : (
                  <>
                    <button
                      type="button"
                      className={buttonClass}
                      aria-label={`Approve admin access for ${r.name}`}
                      onClick={() => setDeciding({ request: r, decision: "approve" })}
                    >
                      Approve
                    </button>
                    <button
                      type="button"
                      className={buttonClass}
                      aria-label={`Reject admin access for ${r.name}`}
                      onClick={() => setDeciding({ request: r, decision: "reject" })}
                    >
                      Reject
                    </button>
                  </>
                )}
              </div>
            </li>
          );
        })}
      </ul>
      <ReasonDialog
        open={deciding !== null}
        onOpenChange={(open) => {
          if (!open) setDeciding(null);
        }}
        title={
          deciding?.decision === "approve"
            ? `Approve admin access for ${deciding.request.name}?`
            : mine
              ? "Withdraw your request?"
              : `Reject admin access for ${deciding?.request.name ?? "this user"}?`
        }
        description={
          deciding?.decision === "approve"
            ? `${deciding.request.name} (${deciding.request.email}) becomes an admin at once: they can manage users and approve force releases. Approve only if you know this is right.`
            : "Nothing is granted; the request is closed."
        }
        confirmLabel={deciding?.decision === "approve" ? "Approve" : mine ? "Withdraw" : "Reject"}
        destructive={deciding?.decision === "reject"}
        onConfirm={async (reason) => {
          if (!deciding) return;
          await onDecide(deciding.request.id, deciding.decision, reason);
        }}
      />
    </section>
  );
}
