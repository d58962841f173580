"use client";

import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { toast } from "sonner";

import { Card } from "@/components/ui/card";
import { DateTime } from "@/components/ui/date-time";
import { EmptyState } from "@/components/ui/empty-state";
import { Badge, type TBadgeTone } from "@/components/ui/status-badge";
import { ApiError } from "@/lib/http/client";
import type { TPlatformDeliveryItem } from "@/lib/platform-webhooks/list-platform-webhooks";
import { resendDeliveryRequest } from "@/lib/platform-webhooks/platform-webhooks-query";

const TONES: Record<string, TBadgeTone> = { pending: "warning", succeeded: "success", failed: "danger" };
const LABELS: Record<string, string> = { pending: "Retrying", succeeded: "Delivered", failed: "Gave up" };

function ResendButton({ delivery }: { delivery: TPlatformDeliveryItem }) {
  const router = useRouter();
  const resend = useMutation({
    mutationFn: () => resendDeliveryRequest(delivery.id),
    onSuccess: (result) => {
      if (result.delivered) toast.success("Re-sent: the endpoint accepted it.");
      else toast.error(`Re-sent, but the endpoint did not accept it: ${result.lastError ?? "no answer"}.`);
      router.refresh();
    },
    onError: (error) => toast.error(error instanceof ApiError || error instanceof Error ? error.message : "The re-send failed."),
  });
  return (
    <button
      type="button"
      className="rounded-md border border-gray-300 px-2 py-1 text-xs"
      disabled={resend.isPending}
      onClick={() => resend.mutate()}
    >
      Re-send
    </button>
  );
}

/** The newest deliveries to the booking platform, each attempt with its answer. */
export function DeliveryLog({ deliveries, canResend }: { deliveries: TPlatformDeliveryItem[]; canResend: boolean }) {
  return (
    <Card title="Delivery log" description="The newest 50 deliveries. Failed attempts are retried with exponential backoff for 3 days.">
      {deliveries.length === 0 ? (
        <EmptyState title="No deliveries yet" description="Each payout status change is delivered to every enabled endpoint." />
      ) : (
        <ul className="divide-y divide-gray-100" aria-label="Platform webhook deliveries">
          {deliveries.map((d) => (
            <li key={d.id} className="space-y-2 px-4 py-3 text-sm sm:px-5">
              <div className="flex flex-wrap items-center justify-between gap-2">
                <div className="flex flex-wrap items-center gap-2">
                  <Badge tone={TONES[d.status] ?? "neutral"}>{LABELS[d.status] ?? d.status}</Badge>
                  <span className="font-mono text-xs text-gray-900">{d.event.type}</span>
                  <span className="text-xs text-gray-500">
                    #{d.event.sequence} of {d.event.subjectId.slice(0, 8)} → {d.endpoint.url}
                  </span>
                </div>
                <div className="flex items-center gap-2 text-xs text-gray-500">
                  <DateTime value={d.createdAt} />
                  {canResend ? <ResendButton delivery={d} /> : null}
                </div>
              </div>
              {d.nextAttemptAt ? (
                <p className="text-xs text-amber-800">
                  Next attempt <DateTime value={d.nextAttemptAt} />
                </p>
              ) : null}
              <ol className="space-y-1 text-xs">
                {d.log.map((a) => (
                  <li key={a.number} className="grid grid-cols-[auto_auto_auto_minmax(0,1fr)] gap-x-3 text-gray-700">
                    <span>
                      #{a.number}
                      {a.manual ? " (re-send)" : ""}
                    </span>
                    <DateTime value={a.startedAt} />
                    <span className={a.statusCode && a.statusCode < 300 ? "text-green-700" : "text-red-700"}>
                      {a.statusCode ?? "no answer"} · {a.durationMs} ms
                    </span>
                    <span className="truncate font-mono text-gray-500" title={a.error ?? a.responseBody ?? ""}>
                      {a.error ?? a.responseBody ?? ""}
                    </span>
                  </li>
                ))}
              </ol>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
