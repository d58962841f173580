"use client";

import Link from "next/link";
import { useEffect, useRef, useState } from "react";
import { toast } from "sonner";

import { PAYOUT_STATUS_LABELS } from "@/components/ui/labels";
import { ReasonDialog } from "@/components/ui/reason-dialog";
import { Badge } from "@/components/ui/status-badge";
import type { TBulkPayoutAction } from "@/lib/payouts/bulk-payout-action";
import type { TPayoutListItem } from "@/lib/payouts/list-payouts";
import type { TBulkPayoutResponse } from "@/lib/payouts/payout-query-keys";

import { useBulkPayoutAction } from "./use-bulk-payout-action";

export type TBulkOutcome = TBulkPayoutResponse & {
  /** What the rows looked like when they were selected, to label the results. */
  rows: Record<string, Pick<TPayoutListItem, "id" | "booking" | "provider">>;
};

const COPY: Record<TBulkPayoutAction, { verb: string; done: string; description: string }> = {
  hold: {
    verb: "Hold",
    done: "held",
    description:
      "Held payouts are not transferred until someone releases them. Only scheduled payouts can be held; any other selected payout is reported as not held, with the reason.",
  },
  release: {
    verb: "Release",
    done: "released",
    description:
      "Released payouts are scheduled again and transferred when due. Only payouts on hold can be released; holds for an open dispute stay until it is resolved.",
  },
};

const plural = (n: number) => `${n} payout${n === 1 ? "" : "s"}`;

/** The selection toolbar: hold or release the selected rows, with a required reason. */
export function BulkActions({
  selected,
  onClear,
  onDone,
}: {
  selected: TPayoutListItem[];
  onClear: () => void;
  onDone: (outcome: TBulkOutcome) => void;
}) {
  // What the open dialog is about, fixed when it opens (the selection is cleared once it is done).
  const [pending, setPending] = useState<{ action: TBulkPayoutAction; rows: TPayoutListItem[] } | null>(null);
  const mutation = useBulkPayoutAction();
  const count = selected.length;

  async function confirm(reason: string) {
    if (!pending) return;
    const { action, rows } = pending;
    const result = await mutation.mutateAsync({ action, payoutIds: rows.map((p) => p.id), reason });
    onDone({ ...result, rows: Object.fromEntries(rows.map((p) => [p.id, { id: p.id, booking: p.booking, provider: p.provider }])) });
    const { done } = COPY[result.action];
    if (result.failed === 0) toast.success(`${plural(result.succeeded)} ${done}.`);
    else if (result.succeeded === 0) toast.error(`No payout ${done}: ${plural(result.failed)} refused. See the results on the page.`);
    else toast.warning(`${plural(result.succeeded)} ${done}, ${result.failed} refused. See the results on the page.`);
  }

  const button = "rounded-md px-2.5 py-1 text-sm font-medium shadow-xs disabled:opacity-60";
  const title = pending ? `${COPY[pending.action].verb} ${plural(pending.rows.length)}` : "";
  return (
    <>
      {count === 0 ? (
        <p className="text-xs text-gray-500 max-sm:hidden">Select payouts to hold or release them together.</p>
      ) : (
        <div role="group" aria-label="Bulk actions" className="flex flex-wrap items-center gap-2">
          <span className="text-sm font-medium text-gray-900" aria-live="polite">
            {count} selected
          </span>
          <button
            type="button"
            onClick={() => setPending({ action: "hold", rows: selected })}
            className={`${button} bg-amber-500 text-white hover:bg-amber-400`}
          >
            Hold selected
          </button>
          <button
            type="button"
            onClick={() => setPending({ action: "release", rows: selected })}
            className={`${button} border border-gray-300 bg-white text-gray-800 hover:bg-gray-50`}
          >
            Release selected
          </button>
          <button
            type="button"
            onClick={onClear}
            className="rounded-md px-2 py-1 text-sm text-gray-600 hover:bg-gray-100 hover:text-gray-900"
          >
            Clear
          </button>
        </div>
      )}
      <ReasonDialog
        open={pending !== null}
        onOpenChange={(open) => (open ? undefined : setPending(null))}
        title={title}
        description={pending ? COPY[pending.action].description : ""}
        confirmLabel={title || "Confirm"}
        destructive={pending?.action === "hold"}
        onConfirm={confirm}
      />
    </>
  );
}

/** What a bulk action did, row by row. */
export function BulkResults({ outcome, onDismiss }: { outcome: TBulkOutcome; onDismiss: () => void }) {
  const { done, verb } = COPY[outcome.action];
  const headingRef = useRef<HTMLHeadingElement>(null);
  // Keyboard and screen-reader users land on the results (the dialog's trigger is gone by
  // then); after the dialog has returned focus, hence the timeout.
  useEffect(() => {
    const timer = window.setTimeout(() => headingRef.current?.focus(), 50);
    return () => window.clearTimeout(timer);
  }, [outcome]);
  return (
    <section
      aria-labelledby="bulk-results-heading"
      data-testid="bulk-results"
      className={`rounded-xl border bg-white shadow-xs ${outcome.failed > 0 ? "border-amber-200" : "border-emerald-200"}`}
    >
      <header className="flex flex-wrap items-start justify-between gap-2 border-b border-gray-100 px-4 py-3">
        <div role="status">
          <h2 id="bulk-results-heading" ref={headingRef} tabIndex={-1} className="text-sm font-semibold text-gray-900 focus:outline-none">
            {verb}: {outcome.succeeded} {done}
            {outcome.failed > 0 ? `, ${outcome.failed} not ${done}` : ""}
          </h2>
          <p className="mt-0.5 text-xs text-gray-500">Each payout was changed on its own and recorded in the audit log with your reason.</p>
        </div>
        <button
          type="button"
          onClick={onDismiss}
          className="rounded-md px-2 py-1 text-xs font-medium text-gray-600 hover:bg-gray-100 hover:text-gray-900"
        >
          Dismiss
        </button>
      </header>
      <ul className="divide-y divide-gray-100">
        {outcome.results.map((r) => {
          const row = outcome.rows[r.payoutId];
          return (
            <li
              key={r.payoutId}
              data-testid="bulk-result-row"
              data-payout-id={r.payoutId}
              data-ok={r.ok}
              className="flex flex-wrap items-center gap-x-3 gap-y-1 px-4 py-2 text-sm"
            >
              {r.ok ? <Badge tone="success">Done</Badge> : <Badge tone="danger">Failed</Badge>}
              <Link href={`/payouts/${r.payoutId}`} prefetch={false} className="font-mono text-xs text-indigo-700 hover:underline">
                {r.payoutId.slice(0, 8)}
              </Link>
              {row ? <span className="font-mono text-xs text-gray-500">{row.booking.externalId}</span> : null}
              <span className={`min-w-0 basis-full text-xs sm:basis-auto ${r.ok ? "text-gray-600" : "text-red-700"}`}>
                {r.ok ? (r.status ? `Now ${PAYOUT_STATUS_LABELS[r.status].toLowerCase()}` : "Done") : r.error}
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
