import { formatDateTimeUtc } from "@/components/ui/date-time";
import type { TEngineStatus } from "@/lib/overview/types";

function plural(n: number, one: string, many = `${one}s`) {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

/**
 * Whether the workflow engine (Inngest) is taking work. Unreachable is loud: nothing is
 * lost (events wait in the outbox and the sweep re-sends them), but payouts are delayed.
 */
export function EngineStatus({ engine }: { engine: TEngineStatus }) {
  const waiting = `${plural(engine.payoutsWaiting, "payout")} due and waiting, ${plural(engine.unsentEvents, "event")} not yet delivered`;
  if (engine.reachable === false) {
    return (
      <section
        role="status"
        data-testid="engine-status"
        data-reachable="false"
        data-payouts-waiting={engine.payoutsWaiting}
        data-unsent-events={engine.unsentEvents}
        className="rounded-lg border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-900"
      >
        <p className="font-semibold">Workflow engine unreachable</p>
        <p className="mt-1">
          {waiting}. Webhooks and admin actions are still recorded; the work is sent when the engine is back
          {engine.lastOkAt ? ` (last reached ${formatDateTimeUtc(engine.lastOkAt)})` : ""}.
        </p>
        {engine.lastError ? <p className="mt-1 font-mono text-xs text-red-800">{engine.lastError}</p> : null}
      </section>
    );
  }
  return (
    <section
      data-testid="engine-status"
      data-reachable={engine.reachable === null ? "unknown" : "true"}
      data-payouts-waiting={engine.payoutsWaiting}
      data-unsent-events={engine.unsentEvents}
      className="flex flex-wrap items-center gap-x-3 gap-y-1 rounded-lg border border-gray-200 bg-white px-4 py-2 text-sm text-gray-700"
    >
      <span className="inline-flex items-center gap-1.5 font-medium">
        <span aria-hidden className={`size-2 rounded-full ${engine.reachable ? "bg-emerald-500" : "bg-gray-400"}`} />
        Workflow engine {engine.reachable ? "connected" : "not contacted yet"}
      </span>
      <span className="text-gray-500">
        {waiting}
        {engine.checkedAt ? ` · last contact ${formatDateTimeUtc(engine.checkedAt)}` : ""}
      </span>
    </section>
  );
}
