"use client";

import { useMutation } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { toast } from "sonner";

import { ExpandableTable, type TColumnMeta } from "@/components/shell/list/expandable-table";
import { JsonView } from "@/components/shell/list/json-view";
import { DateTime, formatDateTimeUtc } from "@/components/ui/date-time";
import { EmptyState } from "@/components/ui/empty-state";
import { ReasonDialog } from "@/components/ui/reason-dialog";
import { Badge } from "@/components/ui/status-badge";
import { ApiError } from "@/lib/http/client";
import type { TDeliveryDetail } from "@/lib/webhooks/list-deliveries";
import { REDRIVABLE_STATUSES } from "@/lib/webhooks/list-deliveries-filter";
import { redriveDeliveryRequest } from "@/lib/webhooks/list-deliveries-query";

import { DELIVERY_SOURCE_LABELS, DELIVERY_STATUS_LABELS, DELIVERY_STATUS_TONES } from "./labels";

function redriveErrorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  // The answer was not JSON (a proxy's error page, say): whether it was applied is unknown.
  if (error instanceof SyntaxError) return "The server gave an unexpected answer; reload to see whether the delivery was re-driven.";
  return error instanceof Error ? error.message : "The re-drive failed.";
}

/**
 * How a delivery's stored text reads: an error (red) only when it failed; why it waits (amber)
 * when deferred; a plain note otherwise (an ignored delivery's reason is not an error).
 */
function deliveryText(delivery: TDeliveryDetail): { label: string; text: string; className: string } | null {
  const text = delivery.error ?? delivery.note;
  if (!text) return null;
  switch (delivery.status) {
    case "failed":
      return { label: "Error", text, className: "text-red-700" };
    case "deferred":
      return { label: "Waiting for", text, className: "text-amber-800" };
    case "ignored":
      return { label: "Why ignored", text, className: "text-gray-600" };
    default:
      return { label: delivery.error ? "Error" : "Note", text, className: "text-gray-600" };
  }
}

function Detail({ delivery }: { delivery: TDeliveryDetail }) {
  const said = deliveryText(delivery);
  return (
    <div className="space-y-3">
      <dl className="grid grid-cols-1 gap-x-6 gap-y-1 text-xs sm:grid-cols-[auto_minmax(0,1fr)]">
        <dt className="text-gray-500">Delivery</dt>
        <dd className="font-mono break-all text-gray-800">{delivery.id}</dd>
        <dt className="text-gray-500">Sender&apos;s event id</dt>
        <dd className="font-mono break-all text-gray-800">{delivery.externalId}</dd>
        {delivery.bookingExternalId ? (
          <>
            <dt className="text-gray-500">Booking</dt>
            <dd className="font-mono break-all text-gray-800">{delivery.bookingExternalId}</dd>
          </>
        ) : null}
        <dt className="text-gray-500">Processed</dt>
        <dd className="text-gray-800">{delivery.processedAt ? formatDateTimeUtc(delivery.processedAt) : "—"}</dd>
        {said ? (
          <>
            <dt className="text-gray-500">{said.label}</dt>
            <dd className={`break-words whitespace-pre-wrap ${said.className}`}>{said.text}</dd>
          </>
        ) : null}
      </dl>
      <div className="space-y-1">
        <p className="text-xs font-medium text-gray-600">Payload</p>
        <JsonView value={delivery.payload} label={`Stored payload of ${delivery.type} ${delivery.externalId}`} />
      </div>
    </div>
  );
}

/** Stored webhook deliveries, each with its payload on demand and, for failed ones, a re-drive. */
export function DeliveriesTable({
  deliveries,
  canRedrive,
  filtered,
}: {
  deliveries: TDeliveryDetail[];
  canRedrive: boolean;
  filtered: boolean;
}) {
  const router = useRouter();
  const [target, setTarget] = useState<TDeliveryDetail | null>(null);
  const redrive = useMutation({
    mutationFn: ({ id, reason }: { id: string; reason: string }) => redriveDeliveryRequest(id, reason),
    onSuccess: ({ delivery }) => {
      if (delivery.status === "failed") toast.error("Re-driven, but applying it failed again. See the error on the delivery.");
      else toast.success(`Re-driven: the delivery is now ${delivery.status}.`);
      router.refresh();
    },
  });

  const columns: ColumnDef<TDeliveryDetail>[] = [
    { id: "received", header: "Received", cell: ({ row }) => <DateTime value={row.original.receivedAt} className="text-gray-900" /> },
    {
      id: "status",
      header: "Status",
      cell: ({ row }) => (
        <div className="space-y-0.5">
          <Badge tone={DELIVERY_STATUS_TONES[row.original.status]}>{DELIVERY_STATUS_LABELS[row.original.status]}</Badge>
          {row.original.applyAttempts > 1 ? <div className="text-xs text-gray-500">{row.original.applyAttempts} attempts</div> : null}
        </div>
      ),
    },
    {
      id: "source",
      header: "Source",
      cell: ({ row }) => <span className="whitespace-nowrap">{DELIVERY_SOURCE_LABELS[row.original.source]}</span>,
    },
    {
      id: "type",
      header: "Type",
      meta: { className: "min-w-44" } satisfies TColumnMeta,
      cell: ({ row }) => (
        <div>
          <span className="font-mono text-xs text-gray-900">{row.original.type}</span>
          <div className="max-w-56 truncate font-mono text-[11px] text-gray-500" title={row.original.externalId}>
            {row.original.externalId}
          </div>
        </div>
      ),
    },
    {
      id: "error",
      header: "Error / note",
      meta: { className: "min-w-48 max-w-sm" } satisfies TColumnMeta,
      cell: ({ row }) => {
        // Red only for a failure: a note (a rejected tip) or an ignored delivery's reason is not an error.
        const said = deliveryText(row.original);
        return said ? (
          <span className={`line-clamp-2 break-words ${said.className}`} title={said.text}>
            {said.text}
          </span>
        ) : (
          <span className="text-gray-400">—</span>
        );
      },
    },
    ...(canRedrive
      ? [
          {
            id: "actions",
            header: () => <span className="sr-only">Actions</span>,
            meta: { align: "right" } satisfies TColumnMeta,
            cell: ({ row }: { row: { original: TDeliveryDetail } }) =>
              REDRIVABLE_STATUSES.includes(row.original.status) ? (
                <button
                  type="button"
                  onClick={() => setTarget(row.original)}
                  aria-label={`Re-drive ${row.original.type} ${row.original.externalId}`}
                  className="rounded-md border border-gray-300 bg-white px-2.5 py-1 text-xs font-medium whitespace-nowrap text-gray-700 shadow-xs hover:bg-gray-50"
                >
                  Re-drive
                </button>
              ) : null,
          } satisfies ColumnDef<TDeliveryDetail>,
        ]
      : []),
  ];

  return (
    <>
      <ExpandableTable
        caption="Webhook deliveries, newest first"
        columns={columns}
        rows={deliveries}
        rowId={(d) => d.id}
        rowTestId="delivery-row"
        toggleLabel={(d) => `Payload of ${d.type} ${d.externalId}`}
        renderDetail={(d) => <Detail delivery={d} />}
        empty={
          filtered ? (
            <EmptyState title="No deliveries match" description="Try another status, source or type." />
          ) : (
            <EmptyState
              title="No webhook deliveries yet"
              description="Every accepted delivery from the booking platform and Stripe is stored here before it is applied."
            />
          )
        }
      />
      <ReasonDialog
        open={target !== null}
        onOpenChange={(open) => {
          if (!open) setTarget(null);
        }}
        title="Re-drive this delivery?"
        description={
          target ? (
            <p>
              <span className="font-mono text-xs">{target.type}</span> from {DELIVERY_SOURCE_LABELS[target.source]} is applied again from
              its stored payload. Duplicate effects are ignored by the services.
            </p>
          ) : null
        }
        confirmLabel="Re-drive"
        onConfirm={async (reason) => {
          if (!target) return;
          try {
            await redrive.mutateAsync({ id: target.id, reason });
          } catch (error) {
            throw new Error(redriveErrorMessage(error));
          }
        }}
      />
    </>
  );
}
