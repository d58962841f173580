import { Card } from "@/components/ui/card";
import { HOLD_REASON_LABELS } from "@/components/ui/labels";
import type { TOverview } from "@/lib/overview/types";

export function OnHoldByReason({ onHold }: { onHold: TOverview["onHold"] }) {
  return (
    <Card
      title="On hold by reason"
      description={`${onHold.count.toLocaleString("en-US")} ${onHold.count === 1 ? "payout is" : "payouts are"} on hold.`}
      data-testid="on-hold"
      data-count={onHold.count}
    >
      <ul className="divide-y divide-gray-100">
        {onHold.byReason.map(({ reason, count }) => (
          <li
            key={reason ?? "none"}
            data-testid={`on-hold-${reason ?? "none"}`}
            data-count={count}
            className="flex items-center justify-between gap-3 px-4 py-2.5 text-sm sm:px-5"
          >
            <span className={count > 0 ? "text-gray-700" : "text-gray-400"}>
              {reason ? HOLD_REASON_LABELS[reason] : "No reason recorded"}
            </span>
            <span className={`font-semibold tabular-nums ${count > 0 ? "text-gray-900" : "text-gray-400"}`}>
              {count.toLocaleString("en-US")}
            </span>
          </li>
        ))}
      </ul>
    </Card>
  );
}
