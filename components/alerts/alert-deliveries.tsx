import { DateTime } from "@/components/ui/date-time";
import { Badge, type TBadgeTone } from "@/components/ui/status-badge";
import type { TAlertDelivery } from "@/lib/alerts/types";

const CHANNEL_LABELS: Record<TAlertDelivery["channel"], string> = { email: "Email", chat: "Chat" };

function stateOf(d: TAlertDelivery): { label: string; tone: TBadgeTone } {
  if (d.status === "sent") return { label: d.attempts > 1 ? `Sent after ${d.attempts} attempts` : "Sent", tone: "success" };
  if (d.status === "failed") return { label: `Failed (${d.attempts} attempt${d.attempts === 1 ? "" : "s"})`, tone: "danger" };
  if (d.attempts > 0) return { label: `Retrying (${d.attempts} failed)`, tone: "warning" };
  return { label: d.kind === "digest" ? "In the next digest" : "Waiting", tone: "neutral" };
}

/** Per alert: each message that carries it (channel, status, attempts, last error). */
export function AlertDeliveries({ deliveries }: { deliveries: TAlertDelivery[] }) {
  if (deliveries.length === 0) return <span className="text-xs text-gray-400">Not notified</span>;
  return (
    <ul className="space-y-1.5" data-testid="alert-deliveries">
      {deliveries.map((d) => {
        const state = stateOf(d);
        return (
          <li key={d.notificationId} className="text-xs text-gray-600" data-testid="alert-delivery">
            <div className="flex flex-wrap items-center gap-1.5">
              <span className="font-medium text-gray-900">{CHANNEL_LABELS[d.channel]}</span>
              <Badge tone={state.tone}>{state.label}</Badge>
              {d.alertCount > 1 ? <span title="Alerts rolled up in this message">with {d.alertCount - 1} more</span> : null}
            </div>
            {d.status === "sent" && d.sentAt ? (
              <div className="text-gray-500">
                <DateTime value={d.sentAt} />
              </div>
            ) : d.status === "pending" ? (
              <div className="text-gray-500">
                {d.attempts > 0 ? "next try " : "due "}
                <DateTime value={d.dueAt} />
              </div>
            ) : null}
            {d.lastError && d.status !== "sent" ? <p className="max-w-60 break-words text-red-700">{d.lastError}</p> : null}
          </li>
        );
      })}
    </ul>
  );
}
