import { DataTable, type TColumn } from "@/components/ui/data-table";
import { DateTime } from "@/components/ui/date-time";
import { EmptyState } from "@/components/ui/empty-state";
import { Money } from "@/components/ui/money";
import { Badge } from "@/components/ui/status-badge";
import type { TProviderListItem, TProviderMoney } from "@/lib/providers/list-providers";

function MoneyList({
  values,
  tone = "neutral",
  none,
  unit = ["payout", "payouts"],
}: {
  values: TProviderMoney[];
  tone?: "neutral" | "danger";
  none: string;
  unit?: [one: string, many: string];
}) {
  if (values.length === 0) return <span className="text-gray-400">{none}</span>;
  return (
    <ul className="space-y-0.5">
      {values.map((v) => (
        <li key={v.currency} className="whitespace-nowrap">
          <Money amount={v.amount} currency={v.currency} className={tone === "danger" ? "font-medium text-red-700" : "text-gray-900"} />
          <span className="ml-1.5 text-xs text-gray-500">
            ×{v.count.toLocaleString("en-US")}
            <span className="sr-only"> {v.count === 1 ? unit[0] : unit[1]}</span>
          </span>
        </li>
      ))}
    </ul>
  );
}

const columns: TColumn<TProviderListItem>[] = [
  {
    key: "name",
    header: "Provider",
    className: "min-w-48",
    cell: (p) => (
      <div>
        <span className="font-medium text-gray-900">{p.name}</span>
        <div className="text-xs text-gray-500">{p.email}</div>
        <div className="font-mono text-[11px] text-gray-400">{p.externalId}</div>
      </div>
    ),
  },
  {
    key: "stripe",
    header: "Stripe account",
    cell: (p) => (
      <div className="space-y-1">
        {p.stripeAccountId ? (
          <span className="font-mono text-xs text-gray-900">{p.stripeAccountId}</span>
        ) : (
          <span className="text-gray-500">Not onboarded</span>
        )}
        <div>
          {p.payoutsEnabled ? (
            <Badge tone="success">Payouts enabled</Badge>
          ) : (
            <Badge tone="warning">{p.stripeAccountId ? "Payouts not enabled" : "Not ready"}</Badge>
          )}
        </div>
        {p.accountUpdatedAt ? (
          <div className="text-xs text-gray-500">
            Checked <DateTime value={p.accountUpdatedAt} />
          </div>
        ) : null}
      </div>
    ),
  },
  {
    key: "bank",
    header: "Bank payout",
    cell: (p) =>
      p.lastBankPayout ? (
        <div className="space-y-1">
          <Badge
            tone={
              p.lastBankPayout.status === "paid"
                ? "success"
                : p.lastBankPayout.status === "failed" || p.lastBankPayout.status === "canceled"
                  ? "danger"
                  : "info"
            }
          >
            {p.lastBankPayout.status === "failed" ? "Failed" : p.lastBankPayout.status.replace("_", " ")}
          </Badge>
          <div className="text-xs text-gray-600">
            <Money amount={p.lastBankPayout.amount} currency={p.lastBankPayout.currency} />
            {p.lastBankPayout.failureCode ? <span className="text-red-700"> · {p.lastBankPayout.failureCode}</span> : null}
          </div>
        </div>
      ) : (
        <span className="text-gray-400">None seen</span>
      ),
  },
  { key: "paid", header: "Paid (net of reversals)", align: "right", cell: (p) => <MoneyList values={p.paid} none="Nothing yet" /> },
  {
    key: "onHold",
    header: "On hold",
    align: "right",
    cell: (p) => (
      <span className={p.onHoldCount > 0 ? "font-medium text-amber-700" : "text-gray-400"}>{p.onHoldCount.toLocaleString("en-US")}</span>
    ),
  },
  {
    key: "debts",
    header: "Open debts",
    align: "right",
    cell: (p) => <MoneyList values={p.openDebts} tone="danger" none="None" unit={["debt", "debts"]} />,
  },
  { key: "payouts", header: "Payouts", align: "right", cell: (p) => p.payoutCount.toLocaleString("en-US") },
];

export function ProvidersTable({ providers, filtered }: { providers: TProviderListItem[]; filtered: boolean }) {
  return (
    <DataTable
      caption="Providers by name, with Stripe readiness, net paid per currency, payouts on hold and open debts"
      columns={columns}
      rows={providers}
      rowKey={(p) => p.id}
      empty={
        filtered ? (
          <EmptyState title="No providers match" description="Check the spelling, or clear the filters." />
        ) : (
          <EmptyState title="No providers yet" description="Providers are created with their first booking." />
        )
      }
    />
  );
}
